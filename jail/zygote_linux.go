package jail

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ZygoteArg0 is the argv[0] of a jail's zygote: the process that starts
// the sessions that join a running jail. The init starts it in a user and
// mount namespace nested in the jail's, as it starts a program. The zygote
// hardens itself once, so every session it forks inherits the jail's
// locked mounts, bounding set, resource limits and seccomp filter.
const ZygoteArg0 = "jailsh-zygote"

// zygoteFD is the zygote's end of its socket to the init.
const zygoteFD = 3

var zygoteComm = []byte(ZygoteArg0 + "\x00")

// zygoteRequest passes a session from the init to the zygote, with the
// session's connection and, without a terminal, its stdio as descriptors.
type zygoteRequest struct {
	ID      int         `json:"id"`
	Request joinRequest `json:"request"`
}

// zygoteEvent is the zygote's report to the init that a session ended.
type zygoteEvent struct {
	Ended int `json:"ended"`
}

// IsZygote reports whether this process was started as a jail's zygote.
// Anyone may start it by that name. It serves only the socket on fd 3, so
// its sessions get no more than the process that started it has.
func IsZygote() bool {
	return len(os.Args) == 1 && os.Args[0] == ZygoteArg0
}

// zygote is the state of a jail's zygote.
type zygote struct {
	spec     *Spec
	mu       sync.Mutex
	sessions map[int]*zygoteSession // by PID
}

// zygoteSession is one running session. Its fields are guarded by
// zygote.mu.
type zygoteSession struct {
	id     int
	conn   int
	ended  bool // the program exited: its PID may be reused
	closed bool // conn is closed: its number may be reused
}

// RunZygote hardens the zygote, then starts each session the init passes
// on, until the init closes the socket. It never returns.
func RunZygote() {
	// The bounding set and no_new_privs are per thread, and a forked
	// program inherits them from the thread that forks it: every fork
	// happens on this one.
	runtime.LockOSThread()
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&zygoteComm[0])), 0, 0, 0)
	// Sessions run as the zygote's uid in its user namespace, and the
	// zygote receives every session's connection. The kernel denies them
	// ptrace while the zygote holds capabilities they lack. Not dumpable,
	// the zygote also needs a tracer with CAP_SYS_PTRACE, which the
	// default bounding set drops.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		os.Exit(1)
	}
	z := &zygote{spec: &Spec{}, sessions: map[int]*zygoteSession{}}
	// The socket to the init came without close-on-exec, and no session
	// may inherit it.
	err := CloseInheritedFDs()
	if err == nil {
		var fds []int
		fds, err = recvMsg(zygoteFD, z.spec)
		closeFDs(fds)
	}
	if err == nil {
		err = z.harden()
	}
	reply := sessionMessage{}
	if err != nil {
		reply.Error = err.Error()
	}
	if serr := sendMsg(zygoteFD, reply); serr != nil || err != nil {
		os.Exit(1)
	}

	children := make(chan os.Signal, 1)
	signal.Notify(children, unix.SIGCHLD)
	go z.reap(children)
	for {
		var m zygoteRequest
		fds, err := recvMsg(zygoteFD, &m)
		var errno unix.Errno
		switch {
		case err == io.EOF:
			os.Exit(0) // the init is gone, and the jail with it
		case errors.As(err, &errno) && errno != unix.EINTR:
			os.Exit(1)
		case err != nil, len(fds) == 0:
			continue // a malformed request; the init sends none
		}
		z.start(m, fds[0], fds[1:])
	}
}

// harden applies the jail's hardening to the zygote, for its sessions to
// inherit.
func (z *zygote) harden() error {
	s := z.spec
	if !s.KeepUID {
		if err := dropBoundingSet(s.Capabilities); err != nil {
			return err
		}
	}
	if err := setRlimits(s.Rlimits); err != nil {
		return err
	}
	// In a private jail, the zygote inherits the init's filter.
	if len(s.DeniedSyscalls) > 0 && !seccompActive() {
		return loadSeccomp(s.DeniedSyscalls)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	return nil
}

// seccompActive reports whether a seccomp filter binds this thread.
func seccompActive() bool {
	mode, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0)
	return err == nil && mode != 0
}

// start starts the program of one session and replies to the client on
// conn.
// It takes ownership of conn and stdio.
func (z *zygote) start(m zygoteRequest, conn int, stdio []int) {
	defer closeFDs(stdio)
	z.mu.Lock()
	defer z.mu.Unlock()
	pid, master, err := z.fork(m.Request, stdio)
	if err != nil {
		_ = sendMsg(conn, sessionMessage{Error: err.Error()})
		unix.Close(conn)
		_ = sendMsg(zygoteFD, zygoteEvent{Ended: m.ID})
		return
	}
	var rights []int
	if master != nil {
		rights = []int{int(master.Fd())}
	}
	_ = sendMsg(conn, sessionMessage{PID: pid}, rights...)
	if master != nil {
		// Only the client holds the master from here on, so that its
		// end hangs up the session's terminal.
		master.Close()
	}
	zs := &zygoteSession{id: m.ID, conn: conn}
	z.sessions[pid] = zs
	go z.listen(pid, zs)
}

// fork starts the program that req names, in the zygote's namespaces.
// It returns the program's PID and, with a terminal, its master.
func (z *zygote) fork(req joinRequest, stdio []int) (int, *os.File, error) {
	s := z.spec
	prog, argv, env, dir := req.Path, req.Argv, req.Env, req.Dir
	if prog == "" {
		prog, argv = s.Shell, []string{"-" + path.Base(s.Shell)}
	}
	if len(argv) == 0 {
		argv = []string{path.Base(prog)}
	}
	if env == nil {
		env = s.Env
	}
	if dir == "" {
		dir = s.Dir
	}
	prog, err := lookPath(prog, env)
	if err != nil {
		return 0, nil, err
	}

	attr := &syscall.ProcAttr{Dir: workDir(dir), Env: env, Sys: &syscall.SysProcAttr{Setsid: true}}
	var master *os.File
	if req.TTY != nil {
		var slave *os.File
		master, slave, err = openPTY(*req.TTY)
		if err != nil {
			return 0, nil, err
		}
		defer slave.Close()
		attr.Files = []uintptr{slave.Fd(), slave.Fd(), slave.Fd()}
		attr.Sys.Setctty = true
	} else {
		if len(stdio) != 3 {
			return 0, nil, fmt.Errorf("session came with %d descriptors, want stdin, stdout and stderr", len(stdio))
		}
		attr.Files = []uintptr{uintptr(stdio[0]), uintptr(stdio[1]), uintptr(stdio[2])}
	}

	pid, err := syscall.ForkExec(prog, argv, attr)
	if err != nil {
		if master != nil {
			master.Close()
		}
		return 0, nil, fmt.Errorf("start %s in the jail: %w", prog, err)
	}
	return pid, master, nil
}

// listen passes the client's signals to the session's program. When the
// client goes away first, the program gets SIGHUP, and SIGKILL a grace
// time later, as a login's processes do when its terminal hangs up.
func (z *zygote) listen(pid int, zs *zygoteSession) {
	for {
		var m sessionMessage
		fds, err := recvMsg(zs.conn, &m)
		closeFDs(fds)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			break
		}
		if m.Signal > 0 && m.Signal < 65 {
			z.signal(pid, zs, unix.Signal(m.Signal))
		}
	}
	z.mu.Lock()
	zs.closed = true
	unix.Close(zs.conn)
	z.mu.Unlock()
	z.signal(pid, zs, unix.SIGHUP)
	z.signal(pid, zs, unix.SIGCONT)
	time.AfterFunc(killGrace, func() { z.signal(pid, zs, unix.SIGKILL) })
}

// signal sends sig to the session's process group, unless the program
// exited and its PID may have been reused since.
func (z *zygote) signal(pid int, zs *zygoteSession, sig unix.Signal) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if !zs.ended {
		_ = unix.Kill(-pid, sig)
	}
}

// reap collects the zygote's children and reports each session's exit to
// its client and to the init.
func (z *zygote) reap(children chan os.Signal) {
	for range children {
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil || pid <= 0 {
				break
			}
			z.exited(pid, exitCode(ws))
		}
	}
}

func (z *zygote) exited(pid, code int) {
	z.mu.Lock()
	zs, ok := z.sessions[pid]
	if ok {
		zs.ended = true
		delete(z.sessions, pid)
	}
	if ok && !zs.closed {
		_ = sendMsg(zs.conn, sessionMessage{Exit: &code})
		// The shutdown ends the listen loop's read, which then finds
		// the session ended and signals nothing.
		_ = unix.Shutdown(zs.conn, unix.SHUT_RDWR)
	}
	z.mu.Unlock()
	if ok {
		_ = sendMsg(zygoteFD, zygoteEvent{Ended: zs.id})
	}
}

// dropBoundingSet removes every capability but keep from the calling
// thread's bounding set.
func dropBoundingSet(keep []string) error {
	mask, err := capMask(keep)
	if err != nil {
		return err
	}
	return dropCaps(mask)
}
