package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// accountComment marks the account as this program's, so that a run that
// was killed before its cleanup leaves an account the next run may remove.
const accountComment = "jailsh benchmark, temporary"

// account is the test user the jails run as.
type account struct {
	name     string
	uid, gid int
	groups   []uint32
	home     string
	shell    string // the login shell in /etc/passwd: the jailsh under test
}

// bench is the state of one run: what setup made, and what cleanup must
// undo.
type bench struct {
	cfg  config
	ctx  context.Context
	dir  string // root-owned temporary folder: bin/, policy/, log.sock
	bin  string
	tool tools
	acct account

	policyFile string
	sink       *syslogSink
	devNull    *os.File
	sessionErr *os.File // stderr of every long-running session

	mu   sync.Mutex
	live map[int]*session // sessions not yet reaped, by host PID
	undo []func()         // run in reverse order by cleanup
}

// tools are the absolute paths of the programs the benchmark runs.
type tools struct {
	bash, bwrap, unshare, chroot, setpriv, hyperfine, make, git, script string
}

func (b *bench) setup() error {
	var err error
	for _, t := range []struct {
		dst      *string
		name     string
		optional bool
	}{
		{&b.tool.bash, "bash", false}, {&b.tool.bwrap, "bwrap", false},
		{&b.tool.unshare, "unshare", false}, {&b.tool.chroot, "chroot", false},
		{&b.tool.setpriv, "setpriv", false}, {&b.tool.make, "make", false},
		{&b.tool.hyperfine, "hyperfine", true}, {&b.tool.git, "git", true},
		{&b.tool.script, "script", true},
	} {
		*t.dst, err = exec.LookPath(t.name)
		if err != nil && !t.optional {
			return fmt.Errorf("%s not found in PATH; install it with `make bench-deps`", t.name)
		}
	}
	for _, f := range []string{"bin/bash", "bin/true", "bin/sleep", "usr/bin/head"} {
		if _, err := os.Stat(filepath.Join(b.cfg.rootfs, f)); err != nil {
			return fmt.Errorf("root filesystem %s lacks %s; build it with `make testroot`", b.cfg.rootfs, f)
		}
	}
	b.live = map[int]*session{}
	if b.devNull, err = os.OpenFile(os.DevNull, os.O_RDWR, 0); err != nil {
		return err
	}

	// jailsh checks that the policy folder and every folder above it are
	// root-owned and not writable by others, so the folder is under
	// /var/lib, not /tmp.
	if b.dir, err = os.MkdirTemp("/var/lib", "jailsh-bench-"); err != nil {
		return err
	}
	b.atCleanup(func() { os.RemoveAll(b.dir) })
	b.bin = filepath.Join(b.dir, "bin")
	policyDir := filepath.Join(b.dir, "policy")
	for _, d := range []string{b.dir, b.bin, policyDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}

	if b.sessionErr, err = os.OpenFile(filepath.Join(b.dir, "sessions.err"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return err
	}
	b.atCleanup(func() { b.sessionErr.Close() })
	if b.sink, err = listenSyslog(filepath.Join(b.dir, "log.sock")); err != nil {
		return fmt.Errorf("listen on syslog socket: %w", err)
	}
	b.atCleanup(b.sink.close)
	if err := b.build(policyDir); err != nil {
		return err
	}
	if err := b.createAccount(); err != nil {
		return err
	}
	b.policyFile = filepath.Join(policyDir, "jailsh.toml")
	policy := fmt.Sprintf("# Written by bench/ for one run; removed when it ends.\n[defaults]\nroot = %q\nhostname = \"jsbench\"\nnetwork = \"none\"\n\n[users.%s]\n", b.cfg.rootfs, b.acct.name)
	if err := os.WriteFile(b.policyFile, []byte(policy), 0o644); err != nil {
		return err
	}

	// A session that fails here would fail every measurement after it.
	trial, cancel := b.userCommand(b.acct.shell, "jailsh", "-c", "hostname")
	out, err := combinedOutput(trial)
	cancel()
	if err != nil || strings.TrimSpace(string(out)) != "jsbench" {
		return fmt.Errorf("trial session `jailsh -c hostname` as %s: %v: %s", b.acct.name, err, out)
	}
	return nil
}

// build runs `make build` with the benchmark's own policy folder and
// syslog socket, as an admin would build jailsh.
func (b *bench) build(policyDir string) error {
	cmd := exec.CommandContext(b.ctx, b.tool.make, "-C", b.cfg.src, "build",
		"BIN="+b.bin, "POLICY_DIR="+policyDir, "SYSLOG_ADDR="+b.sink.path, "GO="+b.cfg.goBin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("make build: %v\n%s", err, out)
	}
	return nil
}

func (b *bench) createAccount() error {
	name := b.cfg.user
	if line, ok := passwdEntry(name); ok {
		fields := strings.Split(line, ":")
		if len(fields) < 5 || fields[4] != accountComment {
			return fmt.Errorf("account %s exists and was not made by this benchmark; remove it or pass -user with another name", name)
		}
		logf("removing account %s left by an earlier run", name)
		if err := b.removeAccount(name); err != nil {
			return err
		}
	}
	shell := filepath.Join(b.bin, "jailsh")
	home := "/home/" + name
	out, err := exec.Command("useradd", "-m", "-d", home, "-U", "-c", accountComment, "-s", shell, name).CombinedOutput()
	if err != nil {
		return fmt.Errorf("useradd %s: %v: %s", name, err, out)
	}
	b.atCleanup(func() {
		if err := b.removeAccount(name); err != nil {
			logf("cleanup: %v", err)
		}
	})

	line, ok := passwdEntry(name)
	fields := strings.Split(line, ":")
	if !ok || len(fields) != 7 {
		return fmt.Errorf("account %s missing from /etc/passwd after useradd", name)
	}
	a := account{name: name, home: fields[5], shell: fields[6]}
	a.uid, _ = strconv.Atoi(fields[2])
	a.gid, _ = strconv.Atoi(fields[3])
	if a.uid == 0 {
		return fmt.Errorf("account %s has uid 0", name)
	}
	out, err = exec.Command("id", "-G", name).Output()
	if err != nil {
		return fmt.Errorf("id -G %s: %v", name, err)
	}
	for _, g := range strings.Fields(string(out)) {
		n, _ := strconv.Atoi(g)
		a.groups = append(a.groups, uint32(n))
	}
	b.acct = a
	return nil
}

// removeAccount kills the account's processes by PID, then deletes it and
// its home. The account is this benchmark's, so every one of its
// processes was started by this benchmark.
func (b *bench) removeAccount(name string) error {
	line, ok := passwdEntry(name)
	if !ok {
		return nil
	}
	uid, _ := strconv.Atoi(strings.Split(line, ":")[2])
	if left := killUID(uid, 5*time.Second); left > 0 {
		logf("cleanup: %d processes of uid %d did not end after SIGKILL", left, uid)
	}
	if out, err := exec.Command("userdel", "-r", name).CombinedOutput(); err != nil {
		return fmt.Errorf("userdel -r %s: %v: %s", name, err, out)
	}
	return nil
}

func passwdEntry(name string) (string, bool) {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), name+":") {
			return sc.Text(), true
		}
	}
	return "", false
}

func (b *bench) atCleanup(fn func()) { b.undo = append(b.undo, fn) }

// cleanup kills every session still running, then undoes setup in
// reverse order.
func (b *bench) cleanup() {
	b.mu.Lock()
	var pids []int
	for pid := range b.live {
		pids = append(pids, pid)
	}
	b.mu.Unlock()
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for i := len(b.undo) - 1; i >= 0; i-- {
		b.undo[i]()
	}
	if b.devNull != nil {
		b.devNull.Close()
	}
}

// loginEnv is the environment a login gives the test user.
func (b *bench) loginEnv() []string {
	return []string{
		"HOME=" + b.acct.home, "USER=" + b.acct.name, "LOGNAME=" + b.acct.name,
		"SHELL=" + b.acct.shell, "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8",
	}
}

// runLimit bounds one run of a start-up or throughput command; a run that
// takes longer is killed and fails its row.
const runLimit = 2 * time.Minute

// userCommand returns a command that runs path with argv as the test
// user, in a login environment, with stdio on /dev/null. The command is
// killed after runLimit, or when the benchmark stops; call the returned
// function once it ended.
func (b *bench) userCommand(path, argv0 string, args ...string) (*exec.Cmd, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(b.ctx, runLimit)
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Args[0] = argv0
	cmd.Env = b.loginEnv()
	cmd.Dir = b.acct.home
	cmd.Stdin, cmd.Stdout, cmd.Stderr = b.devNull, b.devNull, b.devNull
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: uint32(b.acct.uid), Gid: uint32(b.acct.gid), Groups: b.acct.groups},
	}
	return cmd, cancel
}

// combinedOutput runs cmd and returns its stdout and stderr together.
func combinedOutput(cmd *exec.Cmd) ([]byte, error) {
	cmd.Stdout, cmd.Stderr = nil, nil
	return cmd.CombinedOutput()
}

// session is a long-running jail started for the memory and scale tests.
type session struct {
	cmd    *exec.Cmd
	done   chan struct{} // closed once the outer process is reaped
	status int           // exit code, or 128+N after signal N; valid after done
	ended  time.Time
}

// launch starts path as the test user and reaps it in the background.
func (b *bench) launch(path, argv0 string, args ...string) (*session, error) {
	cmd := exec.Command(path, args...)
	cmd.Args[0] = argv0
	cmd.Env = b.loginEnv()
	cmd.Dir = b.acct.home
	cmd.Stdin, cmd.Stdout, cmd.Stderr = b.devNull, b.devNull, b.sessionErr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: uint32(b.acct.uid), Gid: uint32(b.acct.gid), Groups: b.acct.groups},
	}
	// A session has no time limit of its own: the tests end it by signal,
	// and cleanup kills what is left by PID.
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &session{cmd: cmd, done: make(chan struct{})}
	pid := cmd.Process.Pid
	b.mu.Lock()
	b.live[pid] = s
	b.mu.Unlock()
	go func() {
		err := cmd.Wait()
		s.status = exitStatus(cmd, err)
		s.ended = time.Now()
		b.mu.Lock()
		delete(b.live, pid)
		b.mu.Unlock()
		close(s.done)
	}()
	return s, nil
}

// sessionErrors returns the first lines that sessions wrote to stderr.
func (b *bench) sessionErrors() string {
	data, err := os.ReadFile(b.sessionErr.Name())
	if err != nil {
		return err.Error()
	}
	lines := strings.SplitN(strings.TrimSpace(string(data)), "\n", 6)
	if len(lines) > 5 {
		lines[5] = "..."
	}
	return strings.Join(lines, " | ")
}

// exitStatus returns a shell's view of how cmd ended: its exit code, or
// 128+N after signal N, or -1 if it could not be waited for.
func exitStatus(cmd *exec.Cmd, err error) int {
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return -1
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return -1
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// endSessions sends sig to every session's outer process by PID and waits
// up to limit for all of them to be reaped. It returns how many were
// reaped and the time from the first signal to the last reaping.
func endSessions(sessions []*session, sig syscall.Signal, limit time.Duration) (int, time.Duration) {
	start := time.Now()
	for _, s := range sessions {
		_ = s.cmd.Process.Signal(sig)
	}
	deadline := time.After(limit)
wait:
	for _, s := range sessions {
		select {
		case <-s.done:
		case <-deadline:
			break wait
		}
	}
	reaped := 0
	var last time.Time
	for _, s := range sessions {
		select {
		case <-s.done:
			reaped++
			if s.ended.After(last) {
				last = s.ended
			}
		default:
		}
	}
	if reaped < len(sessions) {
		return reaped, time.Since(start)
	}
	return reaped, last.Sub(start)
}
