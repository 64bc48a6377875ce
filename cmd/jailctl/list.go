package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/jailsh/jailsh/jail"
	"github.com/jailsh/jailsh/policy"
)

// findJails returns the running jails, with user names from passwd, and
// the mode and sessions each jail's init reports. With policies, it also
// sets each shared jail's Policy: whether it runs on the user's current policy.
func findJails(policies bool) ([]jail.Info, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("must run as root, since it reads the processes of every jailed user")
	}
	jails, err := jail.FindJails("/proc", func(uid int) string {
		u, err := policy.LookupUID(passwdFile, uid)
		if err != nil {
			return ""
		}
		return u.Name
	})
	currentKeys := map[int]string{} // by uid
	for i := range jails {
		// A jail that is still starting or already ending may not
		// reply; it is listed without its sessions.
		status, err := jail.QueryStatus(jails[i])
		if err != nil {
			continue
		}
		jails[i].Mode, jails[i].Sessions = status.Mode, &status.Sessions
		if !policies || status.Key == "" {
			continue
		}
		current, ok := currentKeys[jails[i].UID]
		if !ok {
			current = currentKey(jails[i].UID)
			currentKeys[jails[i].UID] = current
		}
		switch current {
		case "":
			jails[i].Policy = "invalid"
		case status.Key:
			jails[i].Policy = "current"
		default:
			jails[i].Policy = "changed"
		}
	}
	return jails, err
}

// currentKey returns the jail key that a login of uid would look for now,
// or "" when the user's policy fails to load, so that logins are refused.
func currentKey(uid int) string {
	u, err := policy.LookupUID(passwdFile, uid)
	if err != nil {
		return ""
	}
	pol, err := policy.LoadForUser(policyDir, u.Name, policy.Options{Trusted: true})
	if err != nil {
		return ""
	}
	j, err := pol.Resolve(*u)
	if err != nil {
		return ""
	}
	return jail.JailKey(jail.NewSpec(j, j.Shell, nil, nil))
}

// matchJails returns the jails of user or with ID target.
func matchJails(jails []jail.Info, target string) []jail.Info {
	var matched []jail.Info
	for _, j := range jails {
		if strconv.Itoa(j.ID) == target || j.User == target {
			matched = append(matched, j)
		}
	}
	return matched
}

// runList prints every running jail, as a table or, with --json, as a
// JSON array for scripts.
func runList(args []string) int {
	fset := newFlagSet("jailctl list")
	asJSON := fset.Bool("json", false, "print a JSON array instead of a table")
	if err := fset.Parse(args); err != nil {
		return parseStatus(fset, err)
	}
	jails, err := findJails(true)
	if err != nil {
		fmt.Fprintf(os.Stderr, "jailctl list: %v\n", err)
		return 1
	}
	if *asJSON {
		if jails == nil {
			jails = []jail.Info{}
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(jails); err != nil {
			fmt.Fprintf(os.Stderr, "jailctl list: %v\n", err)
			return 1
		}
		return 0
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tUSER\tUID\tSTARTED\tMODE\tSESSIONS\tPOLICY\tROOT\tNETWORK\tPROCESSES")
	for _, j := range jails {
		mode, sessions, policyState := j.Mode, "-", j.Policy
		if mode == "" {
			mode = "-"
		}
		if j.Sessions != nil {
			sessions = strconv.Itoa(*j.Sessions)
		}
		if policyState == "" {
			policyState = "-"
		}
		fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", j.ID, j.User, j.UID, j.Started.Format(time.DateTime), mode, sessions, policyState, j.Root, j.Network, j.Processes)
	}
	w.Flush()
	return 0
}

// runStop ends the jails named by user name or ID, and every process in
// them, and records each in the audit log.
func runStop(args []string) int {
	fset := newFlagSet("jailctl stop")
	if err := fset.Parse(args); err != nil {
		return parseStatus(fset, err)
	}
	if fset.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "jailctl stop: name one user or jail ID, as `jailctl list` shows them")
		return 2
	}
	target := fset.Arg(0)
	jails, err := findJails(false)
	if err != nil {
		fmt.Fprintf(os.Stderr, "jailctl stop: %v\n", err)
		return 1
	}
	matched := matchJails(jails, target)
	if len(matched) == 0 {
		fmt.Fprintf(os.Stderr, "jailctl stop: no running jail of user or with ID %q; see jailctl list\n", target)
		return 1
	}
	auditor, aerr := jail.OpenSyslog(syslogAddr, jail.AuditPatience)
	status := 0
	for _, j := range matched {
		ev := jail.Event{Kind: jail.EventStop, User: j.User, UID: j.UID, Mode: "admin", AUID: jail.LoginUID(), Root: j.Root, PID: os.Getpid(), JailID: j.ID}
		if err := jail.StopJail("/proc", j); err != nil {
			fmt.Fprintf(os.Stderr, "jailctl stop: %v\n", err)
			status = 1
			continue
		}
		if aerr == nil {
			_ = auditor.Audit(ev)
		}
		fmt.Printf("stopped jail %d of %s\n", j.ID, j.User)
	}
	return status
}
