package jail

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// nestedProc holds the arguments of a program that startNested starts in
// a user and mount namespace nested in the jail's. Every pointer in it is
// made before the fork, since the child may not allocate.
type nestedProc struct {
	path *byte   // the program
	argv []*byte // NULL-terminated
	envv []*byte // NULL-terminated
	dir  *byte
	tty  int    // the terminal's slave, to become stdio and the controlling terminal; -1 for none
	keep uint64 // capabilities kept in the bounding set; all ones keeps every one
	sync int    // read end of a pipe: one byte once the ID maps are written
	errw int    // write end of a close-on-exec pipe: the errno if exec is not reached
}

// Steps of the child, reported with the errno when one fails.
const (
	stepSync = iota + 1
	stepSignals
	stepSession
	stepStdio
	stepChdir
	stepBoundingSet
	stepExec
)

// stepNames names the steps by number.
var stepNames = [...]string{
	stepSync: "wait for the ID maps", stepSignals: "reset signal handlers",
	stepSession: "take the terminal", stepStdio: "set stdio", stepChdir: "change folder",
	stepBoundingSet: "trim the bounding set", stepExec: "execute the program",
}

// startNested starts prog in a new user and mount namespace nested in the
// jail's, with the bounding set trimmed to the capabilities in keep, and
// returns its PID. The process is root there, or uid and gid themselves
// with keepUID. With tty >= 0, that terminal becomes its stdio and
// controlling terminal in a session of its own; otherwise it inherits the
// init's stdio.
//
// The bounding set of a new user namespace is full, so only a process
// already in it can trim it, and os.StartProcess offers no hook between
// clone and exec. So this forks with raw system calls and runs the child's
// steps in nestedChild, as syscall.forkAndExecInChild does, instead of
// running jailsh once more for them. Runs in the init, on a locked thread,
// after harden: the child inherits the seccomp filter, no_new_privs and
// the resource limits from that thread.
func startNested(prog string, argv, env []string, dir string, tty int, keep uint64, keepUID bool, uid, gid int) (int, error) {
	p := &nestedProc{tty: tty, keep: keep}
	var err error
	if p.path, err = syscall.BytePtrFromString(prog); err != nil {
		return 0, err
	}
	if p.argv, err = syscall.SlicePtrFromStrings(argv); err != nil {
		return 0, err
	}
	if p.envv, err = syscall.SlicePtrFromStrings(env); err != nil {
		return 0, err
	}
	if p.dir, err = syscall.BytePtrFromString(dir); err != nil {
		return 0, err
	}
	var syncPipe, errPipe [2]int
	if err := unix.Pipe2(syncPipe[:], unix.O_CLOEXEC); err != nil {
		return 0, fmt.Errorf("create pipe: %w", err)
	}
	defer unix.Close(syncPipe[0])
	defer unix.Close(syncPipe[1])
	if err := unix.Pipe2(errPipe[:], unix.O_CLOEXEC); err != nil {
		return 0, fmt.Errorf("create pipe: %w", err)
	}
	defer unix.Close(errPipe[0])
	p.sync, p.errw = syncPipe[0], errPipe[1]

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// The fork lock keeps other goroutines from opening a descriptor
	// without close-on-exec that the child would inherit.
	syscall.ForkLock.Lock()
	pid, errno := forkNested(p)
	syscall.ForkLock.Unlock()
	unix.Close(errPipe[1])
	if errno != 0 {
		return 0, fmt.Errorf("create the program's namespaces: %w", errno)
	}

	// The child waits on the sync pipe until its ID maps are written.
	inner := 0
	if keepUID {
		inner = uid
	}
	if err := writeIDMaps(pid, inner, gid, keepUID); err != nil {
		_ = unix.Kill(pid, unix.SIGKILL)
		_, _ = unix.Wait4(pid, nil, 0, nil)
		return 0, err
	}
	if _, err := unix.Write(syncPipe[1], []byte{0}); err != nil {
		_ = unix.Kill(pid, unix.SIGKILL)
		_, _ = unix.Wait4(pid, nil, 0, nil)
		return 0, fmt.Errorf("release the program: %w", err)
	}

	// The error pipe closes on exec; a message on it is a failed step.
	var msg [8]byte
	n, _ := readFull(errPipe[0], msg[:])
	if n == 0 {
		return pid, nil
	}
	_, _ = unix.Wait4(pid, nil, 0, nil)
	step := *(*uint32)(unsafe.Pointer(&msg[0]))
	code := syscall.Errno(*(*uint32)(unsafe.Pointer(&msg[4])))
	name := "an unknown step"
	if step < uint32(len(stepNames)) {
		name = stepNames[step]
	}
	return 0, fmt.Errorf("%s in the jail: %w", name, code)
}

// writeIDMaps maps uid 0 of the jail's user namespace, the user on the
// host, to inner in the program's, and denies setgroups there.
func writeIDMaps(pid, inner, gid int, keepUID bool) error {
	innerGID := 0
	if keepUID {
		innerGID = gid
	}
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	for _, w := range []struct{ file, text string }{
		{"uid_map", strconv.Itoa(inner) + " 0 1\n"},
		{"setgroups", "deny"},
		{"gid_map", strconv.Itoa(innerGID) + " 0 1\n"},
	} {
		if err := os.WriteFile(dir+w.file, []byte(w.text), 0); err != nil {
			return fmt.Errorf("write the program's %s: %w", w.file, err)
		}
	}
	return nil
}

func readFull(fd int, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || m == 0 {
			return n, err
		}
		n += m
	}
	return n, nil
}

// sigsetAll blocks every signal; sigsetNone, none.
var sigsetAll, sigsetNone uint64 = ^uint64(0), 0

// sigactionDefault is a struct sigaction for SIG_DFL: all zero on every
// architecture. Its first word is the handler, where sigIgnore is SIG_IGN.
var sigactionDefault [4]uintptr

const sigIgnore = 1

// forkNested forks the child and returns its PID in the parent. The child
// never returns from it. Signals stay blocked across the fork, so that no
// Go signal handler runs in the child, whose runtime has no other thread.
//
//go:nosplit
//go:norace
func forkNested(p *nestedProc) (int, syscall.Errno) {
	var old uint64
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&sigsetAll)), uintptr(unsafe.Pointer(&old)), 8, 0, 0)
	flags := uintptr(unix.CLONE_NEWUSER | unix.CLONE_NEWNS | uintptr(unix.SIGCHLD))
	pid, _, errno := syscall.RawSyscall6(unix.SYS_CLONE, flags, 0, 0, 0, 0, 0)
	if errno != 0 || pid != 0 {
		syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
		return int(pid), errno
	}
	nestedChild(p)
	return 0, 0 // not reached
}

// nestedChild runs in the forked child. It may only make raw system calls:
// nothing that allocates, grows the stack or enters the Go runtime.
//
//go:nosplit
//go:norace
func nestedChild(p *nestedProc) {
	var b [1]byte
	var cur [4]uintptr
	var step uintptr
	var errno syscall.Errno
	n, _, e := syscall.RawSyscall(unix.SYS_READ, uintptr(p.sync), uintptr(unsafe.Pointer(&b[0])), 1)
	if n != 1 {
		step, errno = stepSync, e
		goto fail
	}

	// Signals arrive once unblocked, so the Go handlers go first. exec
	// would reset them, but a signal could come before it. An ignored
	// signal stays ignored, as exec leaves it.
	for sig := uintptr(1); sig <= 64; sig++ {
		_, _, e := syscall.RawSyscall6(unix.SYS_RT_SIGACTION, sig, 0, uintptr(unsafe.Pointer(&cur)), 8, 0, 0)
		if e == 0 && cur[0] != sigIgnore {
			syscall.RawSyscall6(unix.SYS_RT_SIGACTION, sig, uintptr(unsafe.Pointer(&sigactionDefault)), 0, 8, 0, 0)
		}
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&sigsetNone)), 0, 8, 0, 0); e != 0 {
		step, errno = stepSignals, e
		goto fail
	}

	if p.tty >= 0 {
		if _, _, e := syscall.RawSyscall(unix.SYS_SETSID, 0, 0, 0); e != 0 {
			step, errno = stepSession, e
			goto fail
		}
		if _, _, e := syscall.RawSyscall(unix.SYS_IOCTL, uintptr(p.tty), unix.TIOCSCTTY, 0); e != 0 {
			step, errno = stepSession, e
			goto fail
		}
		for fd := uintptr(0); fd < 3; fd++ {
			if _, _, e := syscall.RawSyscall(unix.SYS_DUP3, uintptr(p.tty), fd, 0); e != 0 {
				step, errno = stepStdio, e
				goto fail
			}
		}
	}

	if _, _, e := syscall.RawSyscall(unix.SYS_CHDIR, uintptr(unsafe.Pointer(p.dir)), 0, 0); e != 0 {
		step, errno = stepChdir, e
		goto fail
	}

	// PR_CAPBSET_DROP fails with EINVAL above the kernel's last
	// capability, which costs less than reading cap_last_cap.
	for c := 0; c < 64; c++ {
		if p.keep&(1<<uint(c)) != 0 {
			continue
		}
		if _, _, e := syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0, 0); e != 0 && e != unix.EINVAL {
			step, errno = stepBoundingSet, e
			goto fail
		}
	}

	_, _, errno = syscall.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(p.path)),
		uintptr(unsafe.Pointer(&p.argv[0])), uintptr(unsafe.Pointer(&p.envv[0])))
	step = stepExec
fail:
	var msg [2]uint32
	msg[0], msg[1] = uint32(step), uint32(errno)
	syscall.RawSyscall(unix.SYS_WRITE, uintptr(p.errw), uintptr(unsafe.Pointer(&msg[0])), 8)
	for {
		syscall.RawSyscall(unix.SYS_EXIT_GROUP, 127, 0, 0)
	}
}
