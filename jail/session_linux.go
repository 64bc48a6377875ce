package jail

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// killGrace is how long the jail has to end after SIGHUP or SIGTERM before
// its init, and with it every process in the jail, is killed.
const killGrace = time.Second

// Session is a running jail, seen from the outer process on the host.
type Session struct {
	cmd     *exec.Cmd
	signals chan os.Signal
}

// InitPID returns the host PID of the jail's init.
func (s *Session) InitPID() int { return s.cmd.Process.Pid }

// Start starts a jail for spec, with the calling process's stdin, stdout
// and stderr, and returns once the program runs in it. The caller's real
// uid and gid become root inside. Runs in the outer process, without
// privilege.
func Start(s *Spec) (*Session, error) {
	// PR_SET_PDEATHSIG fires when the thread that started the child ends,
	// not the process, so the starting thread must live as long as the
	// session: the init must die with jailsh, and never outlive it.
	runtime.LockOSThread()

	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("create sync socket: %w", err)
	}
	parent := os.NewFile(uintptr(fds[0]), "sync")
	child := os.NewFile(uintptr(fds[1]), "sync")
	defer parent.Close()

	cloneflags := uintptr(unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC)
	if s.NewNetwork {
		cloneflags |= unix.CLONE_NEWNET
	}
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{InitArg0},
		// One OS thread runs the init's Go code; the default of one per
		// CPU buys nothing for a process that mostly waits. Setting it also
		// keeps the runtime from opening the host's cgroup files, which
		// would stay open in the jail's PID 1.
		Env:        []string{"GOMAXPROCS=1", "GODEBUG=containermaxprocs=0,updatemaxprocs=0"},
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		ExtraFiles: []*os.File{child},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:  cloneflags,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
			// setgroups stays denied, so that root in the jail cannot drop
			// a supplementary group that a file's mode denies access to.
			GidMappingsEnableSetgroups: false,
			Pdeathsig:                  unix.SIGKILL,
		},
	}
	sess := &Session{cmd: cmd, signals: make(chan os.Signal, 4)}
	signal.Notify(sess.signals, unix.SIGHUP, unix.SIGTERM)
	// Terminal signals reach the jail's processes directly; jailsh itself
	// must not die or stop of them.
	signal.Notify(make(chan os.Signal, 1), unix.SIGINT, unix.SIGQUIT, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU)

	err = cmd.Start()
	child.Close()
	if err != nil {
		return nil, fmt.Errorf("create namespaces: %w%s", err, startHint(err))
	}

	if err := json.NewEncoder(parent).Encode(s); err != nil {
		return nil, sess.fail(fmt.Errorf("send jail spec: %w", err))
	}
	var reply initReply
	if err := json.NewDecoder(parent).Decode(&reply); err != nil {
		return nil, sess.fail(fmt.Errorf("jail init ended during setup: %w", err))
	}
	if reply.Error != "" {
		return nil, sess.fail(errors.New(reply.Error))
	}
	return sess, nil
}

// fail kills a jail that did not finish its setup and returns err.
func (s *Session) fail(err error) error {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	return err
}

// startHint explains why the kernel may refuse new namespaces.
func startHint(err error) string {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return " (unprivileged user namespaces are disabled: check sysctl kernel.unprivileged_userns_clone, user.max_user_namespaces, and on Ubuntu the AppArmor profile in contrib/apparmor)"
	case errors.Is(err, unix.ENOSPC):
		return " (the limit in /proc/sys/user/max_user_namespaces is reached)"
	}
	return ""
}

// Wait waits for the jail to end and returns its exit code: the program's
// exit status, or 128+N if it died of signal N. SIGHUP and SIGTERM to
// jailsh are passed to the program; if the jail has not ended a second
// later, its init is killed, and the kernel kills every other process in
// the jail's PID namespace with it.
func (s *Session) Wait() int {
	done := make(chan struct{})
	go func() {
		var kill <-chan time.Time
		for {
			select {
			case sig := <-s.signals:
				_ = s.cmd.Process.Signal(sig)
				if kill == nil {
					kill = time.After(killGrace)
				}
			case <-kill:
				_ = s.cmd.Process.Kill()
			case <-done:
				return
			}
		}
	}()
	err := s.cmd.Wait()
	close(done)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		return 1
	}
	return 0
}
