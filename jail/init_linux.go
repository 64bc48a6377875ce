package jail

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

var initComm = []byte(InitArg0 + "\x00")

// InitArg0 is the argv[0] with which jailsh starts itself as a jail's init.
const InitArg0 = "jailsh-init"

// syncFD is the init's end of the socket to the outer process: the spec
// comes in on it, and the outcome of the setup goes back.
const syncFD = 3

// auditFD is the descriptor number of a shared jail's socket to syslog,
// when the outer process passed one.
const auditFD = 4

// inheritedSocket returns descriptor fd when it is a socket, and nil
// otherwise.
func inheritedSocket(fd int) *os.File {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return nil
	}
	return os.NewFile(uintptr(fd), "syslog")
}

// initReply is the init's reply to the outer process, sent once the
// program runs or failed to start.
type initReply struct {
	PID   int    `json:"pid,omitempty"` // the program's PID inside the jail
	Error string `json:"error,omitempty"`
}

// IsInit reports whether this process was started as a jail's init. Being
// PID 1 of a new PID namespace is part of the test, so that running the
// binary by hand under that name outside a jail does nothing.
func IsInit() bool {
	return len(os.Args) == 1 && os.Args[0] == InitArg0 && os.Getpid() == 1
}

// RunInit runs the jail's init: it builds the jail, starts the program and
// reaps every process until the program exits, then exits with its
// status. It runs as PID 1 and as root of the jail's user namespace, and
// never returns.
func RunInit() {
	Trace("init main")
	// Without a seccomp filter, no_new_privs is set on one thread only,
	// and the program inherits it from the thread that forks it, so this
	// goroutine keeps its thread.
	runtime.LockOSThread()
	// Catching signals takes a round trip to the runtime's signal thread,
	// which is started for it; that runs while the init builds the jail.
	go func() {
		signal.Notify(initSignals, forwardedSignals...)
		close(initSignalsReady)
	}()
	// Started through /proc/self/exe, the kernel names this process "exe";
	// ps in the jail and pgrep on the host should see what it is.
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&initComm[0])), 0, 0, 0)
	sync := os.NewFile(syncFD, "sync")
	// Taken before the Go runtime opens anything that could get number 4.
	audit := inheritedSocket(auditFD)
	if err := CloseInheritedFDs(); err != nil {
		_ = json.NewEncoder(sync).Encode(initReply{Error: err.Error()})
		os.Exit(1)
	}
	srv, pid, master, err := startJail(sync)
	if err == nil && srv.spec.Shared {
		srv.audit = audit
	}
	reply := initReply{PID: pid}
	if err != nil {
		reply.Error = err.Error()
	}
	msg, _ := json.Marshal(reply)
	// A failed send means the outer process is gone. PR_SET_PDEATHSIG is
	// about to kill the init too, so the error is dropped.
	_ = sendReply(sync, append(msg, '\n'), master)
	if master != nil {
		// Only the outer process holds the master from here on, so that
		// closing it hangs up the jail's terminal.
		master.Close()
	}
	if err != nil {
		os.Exit(1)
	}
	if !srv.spec.Shared {
		// The socket stays open, so that the init can tell the outer
		// process when it ends the jail under the program (server.end).
		// It is set before the server runs, which may end the jail.
		srv.link = sync
	}
	go srv.serve()
	if srv.spec.Shared {
		// The socket to the first login holds the jail until it closes.
		go srv.holdCreator(sync)
		// The zygote never exits while the init runs, unless it is
		// killed. The jail then ends, since only the zygote can end
		// the sessions it forked.
		status := reapUntil(pid)
		srv.mu.Lock()
		srv.end(status, "the jail's zygote ended")
	}
	os.Exit(reap(pid))
}

// startJail builds the jail and starts its first process: the program, or
// in a shared jail the zygote. It returns the first process's PID and, in
// a private jail with a terminal, the terminal's master.
func startJail(sync *os.File) (srv *server, pid int, master *os.File, err error) {
	srv, err = setupJail(sync)
	if err != nil {
		return nil, 0, nil, err
	}
	if srv.spec.Shared {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		if err := srv.startZygote(); err != nil {
			return nil, 0, nil, err
		}
		return srv, srv.zygotePID, nil, nil
	}
	pid, master, err = startProgram(srv)
	if err != nil && master != nil {
		master.Close()
		master = nil
	}
	return srv, pid, master, err
}

// setupJail reads the spec and builds the jail around the init.
func setupJail(sync *os.File) (*server, error) {
	s := &Spec{}
	if err := json.NewDecoder(sync).Decode(s); err != nil {
		return nil, fmt.Errorf("read jail spec: %w", err)
	}
	Trace("init spec read")
	steps, err := Plan(s)
	if err != nil {
		return nil, err
	}
	srv := &server{spec: s, zygote: -1, state: stateReady, started: time.Now()}
	if s.Shared {
		// Only logins that look for a shared jail compare keys.
		srv.key, srv.state, srv.holders = JailKey(s), stateStarting, 1
	}
	// The limit goes in before the first nested namespace exists, since
	// it is checked when a namespace is made, and before the mounts, which
	// mask /proc/sys.
	if srv.knob, err = userNamespaceKnob(); err != nil {
		return nil, err
	}
	if err := setUserNamespaces(srv.knob, s.UserNamespaces+1); err != nil {
		return nil, err
	}
	if !s.Shared {
		srv.ns = 1 // the program's; startZygote counts the zygote's
	}
	if err := buildRoot(s, steps); err != nil {
		return nil, err
	}
	if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
		return nil, fmt.Errorf("set hostname %q: %w", s.Hostname, err)
	}
	if s.NewNetwork {
		if err := loopbackUp(); err != nil {
			return nil, err
		}
	}
	if srv.ln, err = listenJoin(); err != nil {
		return nil, err
	}
	Trace("init jail built")
	return srv, nil
}

// startProgram starts the program of a private jail.
func startProgram(srv *server) (int, *os.File, error) {
	s := *srv.spec
	// Signals must be caught before the program starts, or one sent in
	// between would hit PID 1, which the kernel shields from default
	// actions, and be lost.
	<-initSignalsReady

	prog, err := lookPath(s.Path, s.Env)
	if err != nil {
		return 0, nil, err
	}
	keep, err := capMask(s.Capabilities)
	if err != nil {
		return 0, nil, err
	}
	if s.KeepUID {
		// exec leaves a program that is not root no capability.
		keep = ^uint64(0)
	}
	var master *os.File
	tty := -1
	if s.TTY != nil {
		var slave *os.File
		master, slave, err = openPTY(*s.TTY)
		if err != nil {
			return 0, nil, err
		}
		defer slave.Close()
		// The program leads a session of its own with the jail's terminal
		// as its controlling terminal, so that job control works and
		// /dev/tty is the jail's, never the login terminal.
		tty = int(slave.Fd())
	}
	if err := harden(&s); err != nil {
		return 0, master, err
	}
	Trace("init hardened")
	pid, err := startNested(prog, s.Argv, s.Env, workDir(s.Dir), tty, keep, s.KeepUID, s.UID, s.GID)
	Trace("program executed")
	if err != nil {
		return 0, master, fmt.Errorf("start %s: %w", s.Path, err)
	}
	return pid, master, nil
}

// nestedSysProcAttr returns the attributes that start a process in a user
// and mount namespace nested in the jail's. The kernel locks every mount
// it copies into a namespace owned by a less privileged user namespace:
// root in the jail can no longer remount a read-only bind read-write, nor
// unmount a mount to uncover what lies below. Root there also holds no
// capability over the init, so it cannot ptrace it, and none over the
// jail's UTS and network namespaces.
func nestedSysProcAttr(s *Spec) *syscall.SysProcAttr {
	sys := &syscall.SysProcAttr{
		Cloneflags:                 unix.CLONE_NEWUSER | unix.CLONE_NEWNS,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
		GidMappingsEnableSetgroups: false,
	}
	if s.KeepUID {
		// The user keeps their own ids inside, and exec drops every
		// capability of a process that is not root.
		sys.UidMappings[0].ContainerID = s.UID
		sys.GidMappings[0].ContainerID = s.GID
	}
	return sys
}

// workDir returns dir when it is a folder in the jail, and "/" otherwise.
func workDir(dir string) string {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "/"
	}
	return dir
}

// lookPath finds prog inside the jail with the PATH of env.
func lookPath(prog string, env []string) (string, error) {
	if strings.Contains(prog, "/") {
		return prog, checkExecutable(prog)
	}
	pathEnv := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathEnv = v
		}
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if p := filepath.Join(dir, prog); checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: command not found in the jail's PATH %s", prog, pathEnv)
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("%s not found in the jail's root filesystem", p)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s in the jail's root filesystem is not executable", p)
	}
	return nil
}

var (
	initSignals      = make(chan os.Signal, 8)
	initSignalsReady = make(chan struct{})
	// forwardedSignals reach the init from the outer process and are
	// passed on to the program. The init needs no other handler: it has
	// no terminal to send it stop signals, and the kernel drops signals
	// without a handler that processes in the jail send to PID 1.
	forwardedSignals = []os.Signal{unix.SIGHUP, unix.SIGTERM, unix.SIGINT, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2}
)

// reap waits for every child, adopted orphans included, until pid exits,
// and returns the exit code the session reports: pid's exit status, or
// 128+N for death by signal N.
func reap(pid int) int {
	go func() {
		for sig := range initSignals {
			_ = unix.Kill(pid, sig.(unix.Signal))
		}
	}()
	return reapUntil(pid)
}

// reapUntil waits for every child, adopted orphans included, until pid
// exits, and returns pid's exit code.
func reapUntil(pid int) int {
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			// ECHILD: the program is gone without a status we saw.
			return 1
		}
		if wpid == pid {
			return exitCode(ws)
		}
	}
}

func exitCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
