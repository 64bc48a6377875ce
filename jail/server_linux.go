package jail

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// joinTimeout bounds the wait for a client's request, so that a client
// that connects and sends nothing holds no goroutine for long.
const joinTimeout = 2 * time.Second

// server is the jail init's side of the join socket. It runs in the
// init, as root of the jail's user namespace.
type server struct {
	spec    *Spec
	key     string
	ln      int      // the listening socket
	audit   *os.File // syslog, for a shared jail's end; may be nil
	started time.Time
	knob    *os.File // the jail's user.max_user_namespaces; see userNamespaceKnob
	link    *os.File // a private jail's socket to its outer process; may be nil
	ns      int      // user namespaces the init made: the program's, the zygote's

	mu        sync.Mutex
	state     string
	sessions  int // sessions that joined and have not ended
	holders   int // links that keep a shared jail from ending: its first login's
	nextID    int
	zygote    int // socket to the zygote, or -1 before it runs
	zygotePID int
	linger    *time.Timer
	// superseded is set once a login looked for a jail of a newer
	// policy, and cleared when one of this jail's key joins; see
	// supersede.
	superseded bool
}

// listenJoin creates the join socket in a tmpfs that is mounted nowhere
// and makes that tmpfs the init's working folder. Runs in the init after
// the pivot and before the seccomp filter, which denies the new mount API.
func listenJoin() (int, error) {
	fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("create the join socket's tmpfs: %w", err)
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigSetString(fsfd, "mode", "0700"); err != nil {
		return -1, fmt.Errorf("create the join socket's tmpfs: %w", err)
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("create the join socket's tmpfs: %w", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOEXEC|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV)
	if err != nil {
		return -1, fmt.Errorf("mount the join socket's tmpfs: %w", err)
	}
	defer unix.Close(mfd)
	if err := unix.Fchdir(mfd); err != nil {
		return -1, fmt.Errorf("enter the join socket's tmpfs: %w", err)
	}

	ln, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("create the join socket: %w", err)
	}
	if err := unix.Bind(ln, &unix.SockaddrUnix{Name: joinSocket}); err != nil {
		unix.Close(ln)
		return -1, fmt.Errorf("bind the join socket: %w", err)
	}
	if err := unix.Listen(ln, 128); err != nil {
		unix.Close(ln)
		return -1, fmt.Errorf("listen on the join socket: %w", err)
	}
	return ln, nil
}

// serve accepts connections on the join socket until the init exits.
func (s *server) serve() {
	for {
		fd, _, err := unix.Accept4(s.ln, unix.SOCK_CLOEXEC)
		switch {
		case err == unix.EINTR || err == unix.ECONNABORTED:
			continue
		case err == unix.EBADF || err == unix.EINVAL:
			return // the listener is closed: the jail is ending
		case err != nil:
			// Out of descriptors or memory: wait for some to free up.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go s.handle(fd)
	}
}

// handle serves one client: a status request, or a session, which goes
// to the zygote.
func (s *server) handle(conn int) {
	if err := setRecvTimeout(conn, joinTimeout); err != nil {
		unix.Close(conn)
		return
	}
	var req joinRequest
	fds, err := recvMsg(conn, &req)
	if err != nil {
		unix.Close(conn)
		return
	}
	switch req.Op {
	case opStatus:
		closeFDs(fds)
		if req.Key != "" {
			s.supersede(req.Key, req.PolicyTime)
		}
		_ = sendMsg(conn, s.status())
	case opSession:
		if err := s.startSession(conn, req, fds); err != nil {
			_ = sendMsg(conn, sessionMessage{Error: err.Error()})
		}
		closeFDs(fds)
	default:
		closeFDs(fds)
		_ = sendMsg(conn, sessionMessage{Error: fmt.Sprintf("unknown request %q", req.Op)})
	}
	unix.Close(conn)
}

// status reports the jail's mode, state and sessions.
func (s *server) status() JailStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := JailStatus{Mode: ModePrivate, State: s.state, Key: s.key, Sessions: s.sessions}
	if s.spec.Shared {
		st.Mode = ModeShared
	} else {
		st.Sessions++ // the jail's own program
	}
	return st
}

// supersede records that a login looked for a jail with key, built from
// a policy that changed at policyTime. When that policy is newer than the
// jail's, the jail takes no new session, so a linger time would hold it
// for nothing: it ends with its last session instead. A login that read
// the policy before a change, and so carries an older time, supersedes
// nothing.
func (s *server) supersede(key string, policyTime int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.spec.Shared || key == s.key || policyTime <= s.spec.PolicyTime || s.superseded {
		return
	}
	s.superseded = true
	if s.linger != nil {
		s.linger.Stop()
		s.linger = nil
	}
	s.idle()
}

// startSession hands a session request, with its connection and stdio, to
// the zygote, which starts the program and talks to the client from then on.
func (s *server) startSession(conn int, req joinRequest, fds []int) error {
	peer, err := unix.GetsockoptUcred(conn, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return fmt.Errorf("read the credentials of the joining process: %w", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.state != stateReady:
		return fmt.Errorf("the jail is %s", s.state)
	case !s.spec.Shared && peer.Uid == 0:
		// Root on the host is not mapped in the jail's user namespace,
		// and shows as the overflow uid; the jail's own user shows as 0.
		return fmt.Errorf("the jail is private: only root on the host may enter it")
	case req.Key != "" && req.Key != s.key:
		return fmt.Errorf("the jail runs an older policy")
	}

	if err := s.startZygote(); err != nil {
		return err
	}
	if err := setRecvTimeout(conn, 0); err != nil {
		return err
	}
	s.nextID++
	m := zygoteRequest{ID: s.nextID, Request: req}
	if err := sendMsg(s.zygote, m, append([]int{conn}, fds...)...); err != nil {
		return fmt.Errorf("pass the session on: %w", err)
	}
	s.sessions++
	if req.Key == s.key {
		// The policy is this jail's again, as after an edit was undone.
		s.superseded = false
	}
	if s.linger != nil {
		s.linger.Stop()
		s.linger = nil
	}
	return nil
}

// startZygote starts the zygote unless it runs. Called with s.mu held.
func (s *server) startZygote() error {
	if s.zygote >= 0 {
		return nil
	}
	// One more namespace than the jail allows its processes, for the
	// zygote's own. userNamespaceKnob explains why the knob is still open.
	if err := setUserNamespaces(s.knob, s.spec.UserNamespaces+s.ns+1); err != nil {
		return err
	}
	pid, fd, err := s.forkZygote()
	if err != nil {
		// Without the zygote, the room made for it must not stay.
		_ = setUserNamespaces(s.knob, s.spec.UserNamespaces+s.ns)
		return err
	}
	s.ns++
	s.zygote, s.zygotePID = fd, pid
	go s.listenZygote(fd)
	return nil
}

// forkZygote starts the zygote and waits until it hardened itself. It
// returns the zygote's PID and the init's end of the socket to it.
func (s *server) forkZygote() (int, int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, -1, fmt.Errorf("create the zygote's socket: %w", err)
	}
	defer unix.Close(fds[1])
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		unix.Close(fds[0])
		return 0, -1, err
	}
	defer null.Close()
	attr := &syscall.ProcAttr{
		Dir:   "/",
		Env:   helperEnv,
		Files: []uintptr{null.Fd(), null.Fd(), null.Fd(), uintptr(fds[1])},
		Sys:   nestedSysProcAttr(s.spec),
	}
	pid, err := syscall.ForkExec("/proc/self/exe", []string{ZygoteArg0}, attr)
	if err != nil {
		unix.Close(fds[0])
		return 0, -1, fmt.Errorf("start the jail's zygote: %w", err)
	}

	var reply sessionMessage
	err = sendMsg(fds[0], s.spec)
	if err == nil {
		_, err = recvMsg(fds[0], &reply)
	}
	if err == nil && reply.Error != "" {
		err = fmt.Errorf("%s", reply.Error)
	}
	if err != nil {
		unix.Close(fds[0])
		_ = unix.Kill(pid, unix.SIGKILL)
		return 0, -1, fmt.Errorf("start the jail's zygote: %w", err)
	}
	return pid, fds[0], nil
}

// listenZygote counts the sessions that end, until the zygote's socket
// closes.
func (s *server) listenZygote(fd int) {
	for {
		var m zygoteEvent
		fds, err := recvMsg(fd, &m)
		closeFDs(fds)
		if err == io.EOF || err != nil && !isTimeout(err) && err != unix.EINTR {
			break
		}
		if m.Ended != 0 {
			s.mu.Lock()
			s.sessions--
			s.idle()
			s.mu.Unlock()
		}
	}
	if s.spec.Shared {
		// The zygote is the shared jail's first process, so RunInit
		// reaps it and ends the jail with its exit status.
		return
	}
	// The zygote alone can end the sessions it forked, so the jail ends
	// with it, and its program gets SIGKILL.
	s.mu.Lock()
	s.end(128+int(unix.SIGKILL), "the jail's zygote ended")
}

// holdCreator keeps a shared jail for the login that started it: the
// login keeps it, by sending "lead" (the reply is the jail's state), or
// drops it, by closing the socket. Either way the socket holds the jail
// until it closes.
func (s *server) holdCreator(sync *os.File) {
	buf := make([]byte, 64)
	for {
		n, err := sync.Read(buf)
		if err != nil {
			break
		}
		if string(buf[:n]) == leadMessage {
			s.mu.Lock()
			if s.state == stateStarting {
				s.state = stateReady
			}
			state := s.state
			s.mu.Unlock()
			// The login joins once it reads the reply, so the state is
			// set before it is sent.
			_, _ = sync.WriteString(state + "\n")
		}
	}
	sync.Close()
	s.mu.Lock()
	s.holders--
	s.idle()
	s.mu.Unlock()
}

// leadMessage is the message by which the first login of a shared jail
// keeps the jail.
const leadMessage = "lead\n"

// idle ends a shared jail that nothing holds, at once or after its linger
// time. Called with s.mu held.
func (s *server) idle() {
	if !s.spec.Shared || s.holders > 0 || s.sessions > 0 || s.state == stateClosing {
		return
	}
	if s.state == stateStarting || s.spec.Linger == 0 || s.superseded {
		s.end(0, "")
	}
	if s.linger != nil {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(s.spec.Linger, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.linger != t {
			return // a session came and stopped this timer
		}
		s.linger = nil
		if s.holders == 0 && s.sessions == 0 {
			s.end(0, "")
		}
	})
	s.linger = t
}

// end ends the jail: the init exits with status, and the kernel kills
// every process in its PID namespace. A shared jail's end is audited, with
// status and reason, since no login is left to record it. Called with s.mu
// held; it does not return.
func (s *server) end(status int, reason string) {
	// A jail its first login dropped in the race for the shared jail
	// never ran a session, and has no end to record.
	abandoned := s.state == stateStarting
	s.state = stateClosing
	unix.Close(s.ln)
	if s.spec.Shared && s.audit != nil && !abandoned {
		root := s.spec.Root
		if s.spec.RootTmpfs {
			root = "tmpfs"
		}
		ev := Event{Kind: EventEnd, User: s.spec.User, UID: s.spec.UID, Mode: ModeShared, Root: root,
			PID: s.spec.HostPID, JailID: s.spec.HostPID, Duration: time.Since(s.started),
			Status: status, Reason: reason}
		// The record is lost when syslog fails; the jail ends all the same.
		_, _ = s.audit.WriteString(syslogLine(time.Now(), s.spec.HostPID, ev))
	}
	if s.link != nil {
		// The outer process of a private jail records the end.
		_, _ = s.link.WriteString(jailEndedMessage)
	}
	os.Exit(status)
}

// userNamespaceKnob opens the jail's user.max_user_namespaces. It is
// opened before the mounts, since the plan masks /proc/sys read-only, and
// kept, so that the init can make room for a zygote later on: the kernel
// checks the writer's capability on each write, not the mount.
func userNamespaceKnob() (*os.File, error) {
	f, err := os.OpenFile("/proc/sys/user/max_user_namespaces", os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("limit nested user namespaces: %w", err)
	}
	return f, nil
}

// setUserNamespaces sets the jail's user.max_user_namespaces to n. The
// limit applies per user in the jail's user namespace and is checked on
// every creation below it: it counts the namespaces the init makes for
// the program and the zygote, and every one made in them.
func setUserNamespaces(knob *os.File, n int) error {
	if _, err := knob.WriteAt([]byte(strconv.Itoa(n)), 0); err != nil {
		return fmt.Errorf("limit nested user namespaces to %d: %w", n, err)
	}
	return nil
}
