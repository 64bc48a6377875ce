package main

import (
	_ "embed"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jailsh/jailsh/jail"
	"github.com/jailsh/jailsh/policy"
)

// demoPolicy is used by `jailctl run` without --policy: an empty tmpfs
// root with the host's /usr and its friends bound read-only, so that a
// jail runs on a fresh machine with no root filesystem built.
//
//go:embed demo.toml
var demoPolicy []byte

// runRun runs a jail as the calling user. The policy file may be anyone's:
// the jail gives no privilege the caller lacks, so who owns the file does
// not matter.
func runRun(args []string) int {
	fset := newFlagSet("jailctl run")
	policyFile := fset.String("policy", "", "policy `FILE` to read (default: the built-in demo policy)")
	if err := fset.Parse(args); err != nil {
		return parseStatus(fset, err)
	}

	u, err := policy.LookupUID(passwdFile, os.Getuid())
	if err != nil {
		fmt.Fprintf(os.Stderr, "jailctl run: %v\n", err)
		return 1
	}
	var pol *policy.Policy
	if *policyFile == "" {
		fmt.Fprintln(os.Stderr, "jailctl run: no --policy given; using the built-in demo policy (the host's /usr, /etc and libraries, read-only, over an empty root)")
		var main *policy.File
		main, err = policy.ParseFile("built-in demo policy", demoPolicy)
		pol = &policy.Policy{MainName: "built-in demo policy", Main: main}
	} else {
		pol, err = policy.LoadFile(*policyFile, policy.Options{})
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "jailctl run: %v\n", err)
		return 1
	}
	j, err := pol.Resolve(*u)
	if err != nil {
		fmt.Fprintf(os.Stderr, "jailctl run: %v\n", err)
		return 1
	}

	path, argv := j.Shell, []string{j.Shell}
	if cmd := fset.Args(); len(cmd) > 0 {
		path, argv = cmd[0], cmd
	}
	spec := jail.NewSpec(j, path, argv, policy.BuildEnv(j, os.Environ()))
	spec.TTY = jail.TerminalSize(os.Stdin, os.Stdout)

	// jailctl run gives no privilege, so a missing syslog only loses the
	// record, and the jail runs anyway.
	auditor, aerr := jail.OpenSyslog(syslogAddr, 0)
	ev := jail.Event{User: u.Name, UID: u.UID, Mode: "run", Root: j.Root, Command: strings.Join(argv, " "), PID: os.Getpid(), Weakened: j.Weakenings()}
	audit := func(kind string) {
		if aerr == nil {
			ev.Kind = kind
			_ = auditor.Audit(ev)
		}
	}

	start := time.Now()
	if spec.Shared && aerr == nil {
		spec.AuditLog, _ = jail.OpenSyslogSocket(syslogAddr)
	}
	sess, started, err := jail.Launch(spec)
	if spec.AuditLog != nil {
		spec.AuditLog.Close()
	}
	if err != nil {
		ev.Reason = err.Error()
		audit(jail.EventRefuse)
		fmt.Fprintf(os.Stderr, "jailctl run: start jail: %v\n", err)
		return 1
	}
	ev.JailID = sess.InitPID()
	if started {
		audit(jail.EventStart)
	} else {
		audit(jail.EventJoin)
	}
	code := sess.Wait()
	ev.Status, ev.Duration = code, time.Since(start)
	if sess.JailEnded() {
		ev.Reason = jail.ReasonJailEnded
	}
	if spec.Shared {
		audit(jail.EventLeave)
	} else {
		audit(jail.EventEnd)
	}
	return code
}
