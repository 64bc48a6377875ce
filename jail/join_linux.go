package jail

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// electionTimeout bounds the search for a user's shared jail, most of
	// it spent waiting for an older jail to finish its setup.
	electionTimeout = 10 * time.Second
	// electionPoll is the pause between two looks at the candidates.
	electionPoll = 5 * time.Millisecond
	// statusTimeout bounds the wait for the reply to a status request.
	statusTimeout = 500 * time.Millisecond
	// sessionTimeout bounds the wait for a session's program to start.
	sessionTimeout = 10 * time.Second
	// leadTimeout bounds the wait for the init to confirm the lead.
	leadTimeout = 5 * time.Second
)

// Launch starts a private jail for s, or joins or starts the user's
// shared one. It reports whether it started the jail.
func Launch(s *Spec) (*Session, bool, error) {
	if s.Shared {
		return StartShared(s)
	}
	sess, err := Start(s)
	return sess, true, err
}

// StartShared starts a session of s.Shared: it joins the user's running
// jail for the same policy, or starts that jail. It reports whether this
// login started the jail. Runs in the outer process, as the user.
func StartShared(s *Spec) (*Session, bool, error) {
	CatchSignals()
	<-outerSignalsReady
	key, uid := JailKey(s), os.Getuid()
	var own *sharedInit
	abandon := func() {
		if own != nil {
			own.close()
		}
	}
	deadline := time.Now().Add(electionTimeout)
	for time.Now().Before(deadline) {
		ownPID := 0
		if own != nil {
			ownPID = own.pid
		}
		cands := findCandidates("/proc", uid, key, s.PolicyTime)
		ch, c := chooseJail(cands, key, ownPID)
		switch ch {
		case choiceJoin:
			sess, err := joinJail(c, uid, joinRequestFor(s, key))
			if err == nil {
				abandon()
				return sess, false, nil
			}
			// The jail ended or turned us away; look again.
		case choiceStart:
			// A jail this login started and that has ended since is let go.
			abandon()
			var err error
			if own, err = startSharedInit(s); err != nil {
				return nil, false, err
			}
			own.waitTick()
			continue
		case choiceLead:
			if err := own.lead(); err != nil {
				abandon()
				return nil, false, err
			}
			sess, err := joinJail(c, uid, joinRequestFor(s, key))
			if err != nil {
				abandon()
				return nil, false, fmt.Errorf("join the jail just started: %w", err)
			}
			sess.release = own.close
			return sess, true, nil
		}
		time.Sleep(electionPoll)
	}
	abandon()
	return nil, false, fmt.Errorf("no shared jail became ready within %v; see jailctl list", electionTimeout)
}

func joinRequestFor(s *Spec, key string) joinRequest {
	return joinRequest{Op: opSession, Key: key, Path: s.Path, Argv: s.Argv, Env: s.Env, Dir: s.Dir, TTY: s.TTY}
}

// sharedInit is the init of a shared jail that this login started, and
// the socket that holds the jail for it.
type sharedInit struct {
	pid       int
	startTime uint64
	link      *os.File
}

// startSharedInit starts a shared jail's init and waits until it built
// the jail.
func startSharedInit(s *Spec) (*sharedInit, error) {
	pid, link, files, err := startInit(s)
	if err != nil {
		return nil, err
	}
	closeAll(files)
	// The init outlives this login; Wait only collects it if it ends
	// first.
	go func() { _, _ = unix.Wait4(pid, nil, 0, nil) }()
	si := &sharedInit{pid: pid, link: link}
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(si.pid), "stat"))
	if err == nil {
		var st procStat
		if st, err = parseStat(string(data)); err == nil {
			si.startTime = st.StartTime
		}
	}
	if err != nil {
		si.close()
		return nil, fmt.Errorf("read the start time of jail %d: %w", si.pid, err)
	}
	return si, nil
}

// waitTick waits until the clock of /proc/PID/stat has moved past the
// init's start time, so that every jail older than it is there to be seen.
func (si *sharedInit) waitTick() {
	for {
		var ts unix.Timespec
		if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
			time.Sleep(2 * time.Second / clockTicks)
			return
		}
		if uint64(ts.Nano()/int64(time.Second/clockTicks)) > si.startTime {
			return
		}
		time.Sleep(time.Second / clockTicks / 5)
	}
}

// lead makes this login keep the jail it started.
func (si *sharedInit) lead() error {
	if _, err := si.link.WriteString(leadMessage); err != nil {
		return fmt.Errorf("keep the jail just started: %w", err)
	}
	// The init replies with the jail's state once it took the lead. The
	// join that follows would otherwise race it and find the jail still
	// starting.
	if err := setRecvTimeout(int(si.link.Fd()), leadTimeout); err != nil {
		return fmt.Errorf("keep the jail just started: %w", err)
	}
	buf := make([]byte, 64)
	n, err := si.link.Read(buf)
	if err != nil {
		return fmt.Errorf("keep the jail just started: no reply from jail %d: %w", si.pid, err)
	}
	if state := strings.TrimSuffix(string(buf[:n]), "\n"); state != stateReady {
		return fmt.Errorf("keep the jail just started: jail %d is %s", si.pid, state)
	}
	return nil
}

// close lets go of the jail. An init whose login did not lead then ends.
func (si *sharedInit) close() { si.link.Close() }

// findCandidates returns the processes of uid that may be the inits of
// its jails, each with its status when its init replies. A process counts from
// the moment it is cloned: PID 1 of a PID namespace one level below the
// reader's, running the root-owned jailsh binary. No process in a jail
// can make one: its children are at least two levels below. key and
// policyTime describe the jail the login looks for; see queryStatus.
func findCandidates(procRoot string, uid int, key string, policyTime int64) []candidate {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil
	}
	var out []candidate
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		info, ok := readCandidate(filepath.Join(procRoot, e.Name()), pid, uid)
		if !ok {
			continue
		}
		c := candidate{PID: pid, StartTime: info.startTime}
		if st, err := queryStatus(info, uid, key, policyTime); err == nil {
			c.Status = &st
		}
		out = append(out, c)
	}
	return out
}

// readCandidate reads the process in dir when it runs as uid and may be a
// jail's init, named so or still about to be.
func readCandidate(dir string, pid, uid int) (Info, bool) {
	statusData, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return Info{}, false
	}
	status, err := parseStatus(string(statusData))
	if err != nil || status.UID != uid || len(status.NSpid) != 2 || status.NSpid[1] != 1 {
		return Info{}, false
	}
	info, ok := readProcess(dir, pid, status)
	return info, ok
}

// connectJail connects to the join socket of jail j, whose owner is uid,
// and checks that the init of j replies, and not a process that took its
// PID: the init is pinned with a pidfd, checked again, and must be alive
// and the socket's peer once connected.
func connectJail(j Info, uid int) (int, error) {
	pidfd, err := unix.PidfdOpen(j.ID, 0)
	if err != nil {
		return -1, fmt.Errorf("open jail %d: %w", j.ID, err)
	}
	defer unix.Close(pidfd)
	dir := filepath.Join("/proc", strconv.Itoa(j.ID))
	if again, ok := readCandidate(dir, j.ID, uid); !ok || again.startTime != j.startTime {
		return -1, fmt.Errorf("jail %d has ended", j.ID)
	}

	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	fail := func(err error) (int, error) {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: filepath.Join(dir, "cwd", joinSocket)}); err != nil {
		return fail(fmt.Errorf("connect to jail %d: %w", j.ID, err))
	}

	// The peer's credentials are those of the process that listens.
	peer, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return fail(err)
	}
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	if err != nil || n != 0 {
		// A pidfd polls readable once its process exited.
		return fail(fmt.Errorf("jail %d has ended", j.ID))
	}
	if int(peer.Pid) != j.ID || int(peer.Uid) != uid {
		return fail(fmt.Errorf("jail %d: the join socket belongs to process %d of uid %d", j.ID, peer.Pid, peer.Uid))
	}
	return fd, nil
}

// queryStatus requests the status of jail j, owned by uid, from its init.
// A login passes the key and the policy time of the jail it looks for, so
// that a jail of an older policy learns that no login will join it.
// jailctl passes "" and 0.
func queryStatus(j Info, uid int, key string, policyTime int64) (JailStatus, error) {
	var st JailStatus
	fd, err := connectJail(j, uid)
	if err != nil {
		return st, err
	}
	defer unix.Close(fd)
	if err := setRecvTimeout(fd, statusTimeout); err != nil {
		return st, err
	}
	if err := sendMsg(fd, joinRequest{Op: opStatus, Key: key, PolicyTime: policyTime}); err != nil {
		return st, err
	}
	_, err = recvMsg(fd, &st)
	return st, err
}

// QueryStatus requests the status of the running jail j from its init. It
// needs root, or the uid that owns the jail.
func QueryStatus(j Info) (JailStatus, error) { return queryStatus(j, j.UID, "", 0) }

// joinJail starts a session in the jail of candidate c, owned by uid.
func joinJail(c candidate, uid int, req joinRequest) (*Session, error) {
	return join(Info{ID: c.PID, UID: uid, startTime: c.StartTime}, req, nil)
}

// Enter starts a session in the running jail j for root on the host, as
// jailctl enter does: argv, or the jail's login shell when argv is empty,
// with the terminal tty, or with jailctl's stdio when tty is nil.
func Enter(j Info, argv []string, tty *WinSize) (*Session, error) {
	CatchSignals()
	<-outerSignalsReady
	req := joinRequest{Op: opSession, TTY: tty}
	if len(argv) > 0 {
		req.Path, req.Argv = argv[0], argv
	}
	if tty != nil {
		return join(j, req, nil)
	}
	// Root's own stdin, stdout and stderr never enter the jail: one of
	// them may be root's terminal, which a process in the jail could then
	// read and write after jailctl ended. Pipes carry the bytes instead.
	relay, err := newPipeRelay()
	if err != nil {
		return nil, err
	}
	sess, err := join(j, req, relay.jailEnds)
	relay.closeJailEnds()
	if err != nil {
		relay.stop()
		return nil, err
	}
	relay.start()
	sess.release = relay.drain
	return sess, nil
}

// join starts a session in jail j. Without a terminal, the session's
// stdio is stdio, or jailsh's own when stdio is nil.
func join(j Info, req joinRequest, stdio []int) (*Session, error) {
	fd, err := connectJail(j, j.UID)
	if err != nil {
		return nil, err
	}
	if req.TTY == nil && stdio == nil {
		stdio = []int{0, 1, 2}
	}
	if req.TTY != nil {
		stdio = nil
	}
	if err := sendMsg(fd, req, stdio...); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("send the session to jail %d: %w", j.ID, err)
	}

	if err := setRecvTimeout(fd, sessionTimeout); err != nil {
		unix.Close(fd)
		return nil, err
	}
	var reply sessionMessage
	files, err := recvMsg(fd, &reply)
	if isTimeout(err) {
		err = fmt.Errorf("no reply within %v: the jail's init may be stopped or overloaded; see jailctl list", sessionTimeout)
	}
	if err == nil && reply.Error != "" {
		err = errors.New(reply.Error)
	}
	if err == nil && (req.TTY != nil) != (len(files) == 1) {
		err = fmt.Errorf("jail %d sent %d terminals", j.ID, len(files))
	}
	if err == nil {
		err = setRecvTimeout(fd, 0)
	}
	if err != nil {
		closeFDs(files)
		unix.Close(fd)
		return nil, fmt.Errorf("start a session in jail %d: %w", j.ID, err)
	}

	sess := &Session{proc: &joinedProcess{conn: fd}, signals: outerSignals, initPID: j.ID}
	if len(files) == 1 {
		sess.master = os.NewFile(uintptr(files[0]), "pty-master")
	}
	return sess, nil
}

// joinedProcess is a session's program in a jail that runs for other
// sessions too, reached through its connection to the jail's zygote.
type joinedProcess struct{ conn int }

func (p *joinedProcess) signal(sig unix.Signal) {
	_ = sendMsg(p.conn, sessionMessage{Signal: int(sig)})
}

// kill kills the program's process group. The jail and its other
// sessions go on.
func (p *joinedProcess) kill() { p.signal(unix.SIGKILL) }

// wait returns the program's exit code, or 128+SIGKILL when the jail
// ended under it.
func (p *joinedProcess) wait() (int, bool) {
	defer unix.Close(p.conn)
	for {
		var m sessionMessage
		fds, err := recvMsg(p.conn, &m)
		closeFDs(fds)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 128 + int(unix.SIGKILL), true
		}
		if m.Exit != nil {
			return *m.Exit, false
		}
	}
}

// pipeRelay copies between the caller's stdio and pipes whose other ends
// a session in a jail gets.
type pipeRelay struct {
	jailEnds []int      // stdin's read end, stdout's and stderr's write ends
	ours     []*os.File // stdin's write end, stdout's and stderr's read ends
	output   sync.WaitGroup
}

func newPipeRelay() (*pipeRelay, error) {
	r := &pipeRelay{}
	for i := 0; i < 3; i++ {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			r.closeJailEnds()
			r.stop()
			return nil, fmt.Errorf("create pipe: %w", err)
		}
		jail, ours := p[1], p[0] // the jail writes stdout and stderr
		if i == 0 {
			jail, ours = p[0], p[1] // and reads stdin
		}
		r.jailEnds = append(r.jailEnds, jail)
		r.ours = append(r.ours, os.NewFile(uintptr(ours), "stdio-pipe"))
	}
	return r, nil
}

// start copies stdin into the jail and the jail's output out, until each
// side ends.
func (r *pipeRelay) start() {
	go func() {
		_, _ = io.Copy(r.ours[0], os.Stdin)
		r.ours[0].Close()
	}()
	for i, dst := range []*os.File{os.Stdout, os.Stderr} {
		src := r.ours[i+1]
		r.output.Add(1)
		go func() {
			defer r.output.Done()
			_, _ = io.Copy(dst, src)
		}()
	}
}

// drain waits, for a bounded time, until the jail's output has all been
// copied: a process left in the background may keep the pipes open.
func (r *pipeRelay) drain() {
	done := make(chan struct{})
	go func() {
		r.output.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(drainTimeout):
	}
}

func (r *pipeRelay) closeJailEnds() {
	closeFDs(r.jailEnds)
	r.jailEnds = nil
}

func (r *pipeRelay) stop() {
	for _, f := range r.ours {
		f.Close()
	}
}
