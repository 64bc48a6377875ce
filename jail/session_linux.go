package jail

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// helperEnv is the whole environment of the init and the zygote. One OS
// thread runs their Go code, since the default of one per CPU buys nothing
// for a process that mostly waits. Setting it also keeps the runtime from
// opening the host's cgroup files, which would stay open in the jail.
var helperEnv = []string{"GOMAXPROCS=1", "GODEBUG=containermaxprocs=0,updatemaxprocs=0"}

// killGrace is how long the jail has to end after SIGHUP or SIGTERM before
// its init, and with it every process in the jail, is killed.
const killGrace = time.Second

var (
	outerSignals      = make(chan os.Signal, 8)
	outerSignalsReady = make(chan struct{})
	catchOnce         sync.Once
)

// CatchSignals starts catching the signals that a session passes to the
// jail, or ignores, in the background: it takes a round trip to the Go
// runtime's signal thread, which the caller's other start-up work can
// hide. Start waits for it, and calls it if the caller did not.
func CatchSignals() {
	catchOnce.Do(func() {
		go func() {
			signal.Notify(outerSignals, unix.SIGHUP, unix.SIGTERM, unix.SIGINT, unix.SIGQUIT,
				unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU)
			close(outerSignalsReady)
		}()
	})
}

// Session is a program running in a jail, seen from the outer process on
// the host: the first program of a jail the session started, or one that
// joined a running jail.
type Session struct {
	proc    process
	master  *os.File // the jail's terminal, in relay mode
	signals chan os.Signal
	initPID int
	release func() // run once the session ended; may be nil
	// jailEnded is set by Wait when the jail ended under the program.
	jailEnded bool
}

// JailEnded reports, after Wait, whether the jail ended under the program:
// jailctl stop, the out-of-memory killer, or its zygote's death.
func (s *Session) JailEnded() bool { return s.jailEnded }

// ReasonJailEnded is the reason of an end or leave record whose jail ended
// under the session.
const ReasonJailEnded = "the jail ended under the session"

// process is the interface through which a session signals and waits for
// its program.
type process interface {
	signal(sig unix.Signal)
	kill() // ends the program at once
	// wait returns the program's exit code, and whether the jail ended
	// under the program (jailctl stop, or its zygote's death).
	wait() (code int, jailEnded bool)
}

// InitPID returns the host PID of the jail's init.
func (s *Session) InitPID() int { return s.initPID }

// initProcess is a program that is the reason its jail runs: the jail's
// init exits with it, so the init stands for it.
// Its PID stays the init's until wait reaps it.
type initProcess struct {
	pid  int
	link *os.File // the socket to the init, on which it reports an early end
}

func (p initProcess) signal(sig unix.Signal) { _ = unix.Kill(p.pid, sig) }
func (p initProcess) kill()                  { _ = unix.Kill(p.pid, unix.SIGKILL) }

func (p initProcess) wait() (int, bool) {
	defer p.link.Close()
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(p.pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 1, false
		}
		// The init exits with its program's code. A signal ends it only
		// from outside the jail, and it writes jailEndedMessage when it
		// ends the jail under the program itself.
		return exitCode(ws), ws.Signaled() || p.endedEarly()
	}
}

// endedEarly reports whether the init, now gone, wrote jailEndedMessage.
func (p initProcess) endedEarly() bool {
	fd := int(p.link.Fd())
	// The message, if any, was written before the init exited. Should
	// another process still hold the init's end, the read must not wait.
	if unix.SetNonblock(fd, true) != nil {
		return false
	}
	buf := make([]byte, len(jailEndedMessage))
	n, _ := unix.Read(fd, buf)
	return n == len(buf) && string(buf) == jailEndedMessage
}

// jailEndedMessage is the message a private jail's init writes to the
// outer process when it ends the jail under the program, as when its
// zygote died.
const jailEndedMessage = "jail ended\n"

// Start starts a jail for spec and returns once the program runs in it.
// The caller's real uid and gid become root inside. Without spec.TTY the
// program gets the caller's stdin, stdout and stderr; with it, Wait relays
// between them and the jail's own terminal. Runs in the outer process,
// without privilege.
func Start(s *Spec) (*Session, error) {
	if s.Shared {
		return nil, errors.New("a shared jail starts through StartShared")
	}
	// PR_SET_PDEATHSIG fires when the thread that started the child ends,
	// not the process, so the starting thread must live as long as the
	// session: the init must die with jailsh, and never outlive it.
	runtime.LockOSThread()
	pid, parent, files, err := startInit(s)
	if err != nil {
		return nil, err
	}
	sess := &Session{proc: initProcess{pid: pid, link: parent}, signals: outerSignals, initPID: pid}
	if s.TTY != nil {
		if len(files) != 1 {
			closeAll(files)
			parent.Close()
			return nil, failInit(pid, fmt.Errorf("jail init sent %d terminals, want 1", len(files)))
		}
		sess.master = files[0]
	} else if len(files) > 0 {
		closeAll(files)
		parent.Close()
		return nil, failInit(pid, fmt.Errorf("jail init sent %d descriptors, want none", len(files)))
	}
	return sess, nil
}

// startInit starts a jail's init for s and waits until it built the jail.
// It returns the init's PID, the outer end of the socket to it, and the
// descriptors that came with the init's reply.
func startInit(s *Spec) (int, *os.File, []*os.File, error) {
	CatchSignals()

	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("create sync socket: %w", err)
	}
	parent := os.NewFile(uintptr(fds[0]), "sync")
	child := os.NewFile(uintptr(fds[1]), "sync")

	stdio := []*os.File{os.Stdin, os.Stdout, os.Stderr}
	// A shared jail outlives this login, so its init must not hold the
	// login's stdio, which would keep an ssh channel open.
	if s.TTY != nil || s.Shared {
		// With a terminal of its own, nothing in the jail needs the login
		// terminal, and the init must not hold it: root in the jail could
		// take it from there through /proc/1/fd.
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			parent.Close()
			child.Close()
			return 0, nil, nil, err
		}
		defer null.Close()
		stdio = []*os.File{null, null, null}
	}

	cloneflags := uintptr(unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC)
	if s.NewNetwork {
		cloneflags |= unix.CLONE_NEWNET
	}
	sys := &syscall.SysProcAttr{
		Cloneflags:  cloneflags,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		// setgroups stays denied, so that root in the jail cannot drop
		// a supplementary group that a file's mode denies access to.
		GidMappingsEnableSetgroups: false,
		// A session of its own leaves the jail without the login
		// terminal as its controlling terminal: no TIOCSTI on it, and
		// /dev/tty in the jail opens nothing of the host's.
		Setsid:    true,
		Pdeathsig: unix.SIGKILL,
	}
	if s.Shared {
		// The jail outlives this login; its init ends once no session
		// holds it.
		sys.Pdeathsig = 0
	}
	attr := &syscall.ProcAttr{
		Env:   helperEnv,
		Files: []uintptr{stdio[0].Fd(), stdio[1].Fd(), stdio[2].Fd(), child.Fd()},
		Sys:   sys,
	}
	if s.Shared && s.AuditLog != nil {
		attr.Files = append(attr.Files, s.AuditLog.Fd()) // auditFD in the init
	}
	<-outerSignalsReady

	// syscall.ForkExec, unlike os.StartProcess, does not fork a throwaway
	// child first to check that the kernel supports pidfds.
	pid, err := syscall.ForkExec("/proc/self/exe", []string{InitArg0}, attr)
	Trace("init forked")
	child.Close()
	if err != nil {
		parent.Close()
		return 0, nil, nil, fmt.Errorf("create namespaces: %w%s", err, startHint(err))
	}
	fail := func(err error) (int, *os.File, []*os.File, error) {
		parent.Close()
		return 0, nil, nil, failInit(pid, err)
	}
	s.HostPID = pid
	if err := json.NewEncoder(parent).Encode(s); err != nil {
		return fail(fmt.Errorf("send jail spec: %w", err))
	}
	msg, files, err := recvReply(parent)
	if err != nil {
		closeAll(files)
		return fail(fmt.Errorf("jail init ended during setup: %w", err))
	}
	var reply initReply
	if err := json.Unmarshal(msg, &reply); err != nil {
		closeAll(files)
		return fail(fmt.Errorf("read reply of jail init: %w", err))
	}
	if reply.Error != "" {
		closeAll(files)
		return fail(errors.New(reply.Error))
	}
	return pid, parent, files, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// failInit kills a jail's init that did not finish its setup and returns
// err.
func failInit(pid int, err error) error {
	_ = unix.Kill(pid, unix.SIGKILL)
	_, _ = unix.Wait4(pid, nil, 0, nil)
	return err
}

// startHint explains why the kernel may refuse new namespaces.
func startHint(err error) string {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return " (unprivileged user namespaces are disabled: check sysctl kernel.unprivileged_userns_clone and user.max_user_namespaces, and on Ubuntu 23.10 and later kernel.apparmor_restrict_unprivileged_userns)"
	case errors.Is(err, unix.ENOSPC):
		return " (the limit in /proc/sys/user/max_user_namespaces is reached)"
	}
	return ""
}

// Wait relays the terminal, if the jail has one, until the jail ends, and
// returns its exit code: the program's exit status, or 128+N if it died of
// signal N. SIGHUP, SIGTERM, SIGINT and SIGQUIT to jailsh are passed to
// the program. After SIGHUP or SIGTERM, a jail that has not ended a second
// later loses its init, and the kernel kills every other process in the
// jail's PID namespace with it.
func (s *Session) Wait() int {
	// killed is set when Wait itself kills the program, which the
	// process may report as the jail's end.
	var killed atomic.Bool
	var r *relay
	if s.master != nil {
		var err error
		r, err = startRelay(os.Stdin, os.Stdout, s.master)
		if err != nil {
			fmt.Fprintf(os.Stderr, "jailsh: %v\n", err)
			killed.Store(true)
			s.proc.kill()
		}
	}
	defer r.stop()

	done := make(chan struct{})
	go func() {
		var kill <-chan time.Time
		for {
			select {
			case sig := <-s.signals:
				// A stop signal from a terminal must not stop jailsh,
				// because the jail has a terminal of its own, or none.
				if sig == unix.SIGTSTP || sig == unix.SIGTTIN || sig == unix.SIGTTOU {
					continue
				}
				if sig == unix.SIGHUP {
					// A hangup of the login terminal becomes a hangup of
					// the jail's terminal, as the kernel would do it.
					r.hangup()
				}
				s.proc.signal(sig.(unix.Signal))
				if kill == nil && (sig == unix.SIGHUP || sig == unix.SIGTERM) {
					kill = time.After(killGrace)
				}
			case <-kill:
				killed.Store(true)
				s.proc.kill()
			case <-done:
				return
			}
		}
	}()
	code, jailEnded := s.proc.wait()
	s.jailEnded = jailEnded && !killed.Load()
	close(done)
	r.drain()
	r.stop()
	if s.jailEnded {
		// Written once the login terminal has its own modes back. On a
		// terminal the cursor is likely after the jail's prompt, so the
		// message starts on a line of its own.
		lead := ""
		if r != nil {
			lead = "\n"
		}
		fmt.Fprintf(os.Stderr, "%s%s: the jail ended\n", lead, strings.TrimPrefix(filepath.Base(os.Args[0]), "-"))
	}
	if s.release != nil {
		s.release()
	}
	return code
}
