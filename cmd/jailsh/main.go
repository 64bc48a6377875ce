// Command jailsh is a login shell that puts the user in a jail: an
// unprivileged user namespace in which the user is root, with the root
// filesystem the admin's policy assigns and private PID, mount, UTS, IPC
// and network views. See jailsh(8).
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/jailsh/jailsh/jail"
	"github.com/jailsh/jailsh/policy"
)

// Set at build time with -ldflags "-X main.policyDir=...". Only the build
// chooses them: a login shell must take nothing from the user that picks
// or changes the user's policy.
var (
	policyDir  = "/etc/jailsh"
	syslogAddr = "" // a unixgram socket path; empty for the system's /dev/log
)

const passwdFile = "/etc/passwd"

func main() {
	if jail.IsInit() {
		jail.RunInit()
	}
	if jail.IsZygote() {
		jail.RunZygote()
	}
	if err := jail.CloseInheritedFDs(); err != nil {
		fmt.Fprintf(os.Stderr, "jailsh: login refused: %v\n", err)
		os.Exit(1)
	}
	os.Exit(run())
}

func run() int {
	jail.Trace("outer main")
	start := time.Now()
	jail.CatchSignals()
	ev := jail.Event{UID: os.Getuid(), PID: os.Getpid(), Mode: modeLogin}

	// Sessions must be audited, so a login that cannot be is refused.
	auditor, err := jail.OpenSyslog(syslogAddr, jail.AuditPatience)
	if err != nil {
		fmt.Fprintf(os.Stderr, "jailsh: login refused: failed to open syslog, which records every session: %v\n", err)
		return 1
	}
	defer auditor.Close()
	jail.Trace("syslog open")

	refuse := func(err error) int {
		ev.Kind, ev.Reason = jail.EventRefuse, err.Error()
		if aerr := auditor.Audit(ev); aerr != nil {
			fmt.Fprintf(os.Stderr, "jailsh: write audit record: %v\n", aerr)
		}
		fmt.Fprintf(os.Stderr, "jailsh: login refused: %v\n", err)
		return 1
	}

	u, err := policy.LookupUID(passwdFile, ev.UID)
	if err != nil {
		return refuse(err)
	}
	ev.User = u.Name
	orig, haveOrig := os.LookupEnv("SSH_ORIGINAL_COMMAND")
	inv, err := parseInvocation(os.Args, orig, haveOrig)
	ev.Mode, ev.Command = inv.mode, inv.command
	if err != nil {
		return refuse(err)
	}
	spec, j, err := prepare(u, inv)
	if j != nil {
		ev.Root, ev.Weakened = j.Root, j.Weakenings()
	}
	if err != nil {
		return refuse(err)
	}
	jail.Trace("policy loaded")
	if spec.Shared {
		// The jail may outlive this login, and its init records its
		// end through a socket of its own.
		if spec.AuditLog, err = jail.OpenSyslogSocket(syslogAddr); err != nil {
			return refuse(err)
		}
	}
	sess, started, err := jail.Launch(spec)
	if spec.AuditLog != nil {
		spec.AuditLog.Close()
	}
	if err != nil {
		return refuse(fmt.Errorf("start jail: %w", err))
	}

	ev.Kind, ev.JailID = jail.EventStart, sess.InitPID()
	if !started {
		ev.Kind = jail.EventJoin
	}
	if err := auditor.Audit(ev); err != nil {
		// The jail runs already; ending it here would lose the user's
		// work for a log line, so the failure is reported and it goes on.
		fmt.Fprintf(os.Stderr, "jailsh: write audit record: %v\n", err)
	}
	jail.Trace("jail running")
	code := sess.Wait()
	jail.Trace("program ended")
	ev.Kind, ev.Status, ev.Duration = jail.EventEnd, code, time.Since(start)
	if spec.Shared {
		ev.Kind = jail.EventLeave
	}
	if sess.JailEnded() {
		ev.Reason = jail.ReasonJailEnded
	}
	if err := auditor.Audit(ev); err != nil {
		fmt.Fprintf(os.Stderr, "jailsh: write audit record: %v\n", err)
	}
	jail.Trace("end audited")
	return code
}

// prepare reads the policy of u and returns the jail's spec. The
// *policy.Jail is returned, once resolved, for the audit record even when
// err is set.
func prepare(u *policy.User, inv invocation) (*jail.Spec, *policy.Jail, error) {
	if u.UID == 0 {
		return nil, nil, errors.New("jailsh does not jail root: root in the jail would own the host's root-owned files")
	}
	pol, err := policy.LoadForUser(policyDir, u.Name, policy.Options{Trusted: true})
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("no jail policy: %w", err)
		}
		return nil, nil, err
	}
	j, err := pol.Resolve(*u)
	if err != nil {
		return nil, nil, err
	}
	if err := checkRoot(j); err != nil {
		return nil, j, err
	}
	env := policy.BuildEnv(j, os.Environ())
	spec := jail.NewSpec(j, j.Shell, inv.shellArgv(j.Shell), env)
	spec.TTY = jail.TerminalSize(os.Stdin, os.Stdout)
	spec.PolicyTime = policyTime(append([]string{policyDir, policyDir + "/users.d", policyDir + "/groups.d",
		passwdFile, policy.DefaultGroupFile}, j.Sources...))
	return spec, j, nil
}

// policyTime returns the newest change time, in Unix nanoseconds, of the
// files and folders that make a user's policy. A folder's change time
// moves when a file in it is added, removed or renamed. Missing files are
// skipped.
func policyTime(paths []string) int64 {
	var newest int64
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			newest = max(newest, st.Ctim.Nano())
		}
	}
	return newest
}

// checkRoot checks that the root filesystem exists and only root can
// change it, as sshd checks a ChrootDirectory, and that the home exists.
func checkRoot(j *policy.Jail) error {
	if j.Root != policy.RootTmpfs {
		fi, err := os.Stat(j.Root)
		if errors.Is(err, fs.ErrPermission) {
			// jailsh runs as the user, who must be able to search every
			// folder on the way.
			return fmt.Errorf("root filesystem %s of user %s is out of the user's reach: %w; run chmod a+x on each folder above it, then jailctl check", j.Root, j.User.Name, errors.Unwrap(err))
		}
		if err != nil {
			return fmt.Errorf("root filesystem %s of user %s is missing: %w; create it, or correct root at %s",
				j.Root, j.User.Name, errors.Unwrap(err), j.Origins["root"])
		}
		if !fi.IsDir() {
			return fmt.Errorf("root filesystem %s of user %s is not a folder", j.Root, j.User.Name)
		}
		if err := policy.CheckTrustedPath(j.Root); err != nil {
			return fmt.Errorf("untrusted root filesystem: %w", err)
		}
	}
	if j.Home {
		fi, err := os.Stat(j.User.Home)
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("home folder %s of user %s is out of the user's reach: %w; run chmod a+x on each folder above it, then jailctl check", j.User.Home, j.User.Name, errors.Unwrap(err))
		}
		if err != nil || !fi.IsDir() {
			return fmt.Errorf("home folder %s of user %s is missing; create it, or set home = false", j.User.Home, j.User.Name)
		}
	}
	return nil
}
