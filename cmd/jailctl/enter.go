package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jailsh/jailsh/jail"
)

// runEnter runs a shell, or the command after --, in a running jail, as
// docker exec does: as the jail's root, with the jail's mounts and
// hardening, and a terminal of its own when jailctl has one. The session
// is audited as a join and a leave, in mode admin.
func runEnter(args []string) int {
	fset := newFlagSet("jailctl enter")
	if err := fset.Parse(args); err != nil {
		return parseStatus(fset, err)
	}
	if fset.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "jailctl enter: name one user or jail ID, as `jailctl list` shows them, and optionally a command after --")
		return 2
	}
	target, argv := fset.Arg(0), fset.Args()[1:]
	if len(argv) > 0 && argv[0] == "--" {
		argv = argv[1:]
	}
	jails, err := findJails(false)
	if err != nil {
		fmt.Fprintf(os.Stderr, "jailctl enter: %v\n", err)
		return 1
	}
	matched := matchJails(jails, target)
	switch {
	case len(matched) == 0:
		fmt.Fprintf(os.Stderr, "jailctl enter: no running jail of user or with ID %q; see jailctl list\n", target)
		return 1
	case len(matched) > 1:
		var ids []string
		for _, j := range matched {
			ids = append(ids, fmt.Sprint(j.ID))
		}
		fmt.Fprintf(os.Stderr, "jailctl enter: user %s has %d jails (IDs %s); name one by its ID\n", target, len(matched), strings.Join(ids, ", "))
		return 1
	}
	j := matched[0]

	auditor, aerr := jail.OpenSyslog(syslogAddr, jail.AuditPatience)
	if aerr != nil {
		fmt.Fprintf(os.Stderr, "jailctl enter: refused: failed to open syslog, which records every session: %v\n", aerr)
		return 1
	}
	defer auditor.Close()
	ev := jail.Event{Kind: jail.EventJoin, User: j.User, UID: j.UID, Mode: "admin", AUID: jail.LoginUID(), Root: j.Root,
		Command: strings.Join(argv, " "), PID: os.Getpid(), JailID: j.ID}
	start := time.Now()
	sess, err := jail.Enter(j, argv, jail.TerminalSize(os.Stdin, os.Stdout))
	if err != nil {
		ev.Kind, ev.Reason = jail.EventRefuse, err.Error()
		_ = auditor.Audit(ev)
		fmt.Fprintf(os.Stderr, "jailctl enter: %v\n", err)
		return 1
	}
	if err := auditor.Audit(ev); err != nil {
		fmt.Fprintf(os.Stderr, "jailctl enter: write audit record: %v\n", err)
	}
	code := sess.Wait()
	ev.Kind, ev.Status, ev.Duration = jail.EventLeave, code, time.Since(start)
	if sess.JailEnded() {
		ev.Reason = jail.ReasonJailEnded
	}
	if err := auditor.Audit(ev); err != nil {
		fmt.Fprintf(os.Stderr, "jailctl enter: write audit record: %v\n", err)
	}
	return code
}
