package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// In the test policy jse-erin has shared sessions, jse-frank has shared
// sessions that linger for 2s, and the others have private ones.

// sshAsync starts a command over ssh and returns a channel with its result.
func sshAsync(t *testing.T, user, command string) <-chan result {
	t.Helper()
	done := make(chan result, 1)
	go func() { done <- ssh(t, user, "", command) }()
	return done
}

func await(t *testing.T, done <-chan result, what string) result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not end within 30s", what)
	}
	return result{}
}

// TestSharedLoginsShareJail logs in twice as a shared user: the second
// login finds the first one's processes and files, in the same PID
// namespace, and both are audited.
func TestSharedLoginsShareJail(t *testing.T) {
	first := sshAsync(t, "jse-erin", "echo from-first > /tmp/shared-file; readlink /proc/self/ns/pid; exec sleep 312")
	waitForProcess(t, "jse-erin", "sleep 312")

	r := ssh(t, "jse-erin", "", "cat /tmp/shared-file; readlink /proc/self/ns/pid; ps -e -o args; hostname; echo fds $(ls /proc/self/fd)")
	if r.code != 0 || !strings.Contains(r.stdout, "from-first\n") || !strings.Contains(r.stdout, "sleep 312\n") ||
		!strings.Contains(r.stdout, "erin-jail\n") {
		t.Errorf("second login of a shared user: %v", r)
	}
	// ls has its stdio and the folder it reads, and nothing from the zygote.
	if !strings.Contains(r.stdout, "fds 0 1 2 3\n") {
		t.Errorf("a joined session inherits descriptors beyond stdio: %v", r)
	}
	if r := ssh(t, "jse-erin", "", "pkill -x sleep"); r.code != 0 {
		t.Errorf("pkill of the first login's sleep from a third login: %v", r)
	}
	r1 := await(t, first, "the first login")
	ns1 := strings.TrimSpace(r1.stdout)
	if !strings.HasPrefix(ns1, "pid:[") || !strings.Contains(r.stdout, ns1+"\n") {
		t.Errorf("PID namespaces differ: first login %v, second %v", r1, r)
	}
	if r1.code != 128+15 {
		t.Errorf("first login's status after pkill = %d, want %d", r1.code, 128+15)
	}
	start := env.log.wait(t, "event=start", "user=jse-erin", "cmd=\"echo from-first")
	id := auditField(start, "jail")
	env.log.wait(t, "event=join", "user=jse-erin", "jail="+id, "cmd=\"cat /tmp/shared-file")
	env.log.wait(t, "event=leave", "user=jse-erin", "jail="+id, "status=0", "cmd=\"cat /tmp/shared-file")
	env.log.wait(t, "event=leave", "user=jse-erin", "jail="+id, "status=143", "cmd=\"echo from-first")
	waitUserGone(t, "jse-erin", "the last session of a shared jail without linger")
}

// TestSharedPolicyChange changes a shared user's policy while their jail
// runs: the next login starts a jail of its own with the new settings,
// and jailctl list marks the old jail as changed.
func TestSharedPolicyChange(t *testing.T) {
	first := sshAsync(t, "jse-erin", "exec sleep 313")
	waitForProcess(t, "jse-erin", "sleep 313")
	extra := filepath.Join(env.policyDir, "users.d/jse-erin.toml")
	if err := os.WriteFile(extra, []byte("hostname = \"erin-jail-2\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(extra) })
	second := sshAsync(t, "jse-erin", "hostname; ps -e -o args; exec sleep 314")
	waitForProcess(t, "jse-erin", "sleep 314")

	jails, r := listJails(t)
	policyOf := map[string]string{} // hostname -> list's policy column
	for _, j := range jails {
		if j.User != "jse-erin" {
			continue
		}
		hostname := jailctl(t, "", "enter", strconv.Itoa(j.ID), "--", "hostname")
		policyOf[strings.TrimSpace(hostname.stdout)] = j.Policy
	}
	if len(policyOf) != 2 {
		t.Errorf("jse-erin's jails by hostname = %v, want erin-jail and erin-jail-2; list: %v", policyOf, r)
	}
	if policyOf["erin-jail"] != "changed" {
		t.Errorf("policy of the jail on the old policy = %q, want changed", policyOf["erin-jail"])
	}
	if policyOf["erin-jail-2"] != "current" {
		t.Errorf("policy of the jail on the new policy = %q, want current", policyOf["erin-jail-2"])
	}

	// A policy that does not load refuses logins, and list shows invalid.
	if err := os.WriteFile(extra, []byte("hostname = \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	jails, r = listJails(t)
	listed := 0
	for _, j := range jails {
		if j.User != "jse-erin" {
			continue
		}
		listed++
		if j.Policy != "invalid" {
			t.Errorf("policy of jail %d with a broken policy file = %q, want invalid; list: %v", j.ID, j.Policy, r)
		}
	}
	if listed != 2 {
		t.Errorf("jailctl list shows %d jails of jse-erin with a broken policy file, want 2: %v", listed, r)
	}
	if r := jailctl(t, "", "stop", "jse-erin"); r.code != 0 {
		t.Errorf("jailctl stop jse-erin: %v", r)
	}
	await(t, first, "the login on the old policy")
	newLogin := await(t, second, "the login on the new policy")
	if !strings.HasPrefix(newLogin.stdout, "erin-jail-2\n") {
		t.Errorf("a login after the policy changed got the old hostname: %v", newLogin)
	}
	if strings.Contains(newLogin.stdout, "sleep 313") {
		t.Errorf("a login after the policy changed sees the old jail's processes: %v", newLogin)
	}
	waitUserGone(t, "jse-erin", "both of jse-erin's jails after jailctl stop")
}

// TestChangedJailSkipsLinger gives jse-frank an hour of linger, changes
// the policy while a jail of theirs runs, and logs in on the new policy.
// No login can join the old jail any more, so it ends with its last
// session instead of lingering.
func TestChangedJailSkipsLinger(t *testing.T) {
	extra := filepath.Join(env.policyDir, "users.d/jse-frank.toml")
	t.Cleanup(func() {
		os.Remove(extra)
		jailctl(t, "", "stop", "jse-frank")
		waitUserGone(t, "jse-frank", "jailctl stop of the jail on the new policy")
	})
	if err := os.WriteFile(extra, []byte("linger = \"1h\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	first := sshAsync(t, "jse-frank", "exec sleep 319")
	waitForProcess(t, "jse-frank", "sleep 319")
	oldInit := waitForComm(t, "jse-frank", "jailsh-init")

	if err := os.WriteFile(extra, []byte("linger = \"1h\"\nhostname = \"frank-jail-2\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := ssh(t, "jse-frank", "", "hostname"); r.stdout != "frank-jail-2\n" {
		t.Errorf("login on the new policy: %v", r)
	}
	if err := exec.Command("pkill", "-u", "jse-frank", "-x", "-f", "sleep 319").Run(); err != nil {
		t.Fatalf("pkill sleep 319: %v", err)
	}
	await(t, first, "the login on the old policy")
	deadline := time.Now().Add(10 * time.Second)
	for unix.Kill(oldInit, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the jail on the old policy still runs 10s after its last session, with linger 1h")
		}
		time.Sleep(50 * time.Millisecond)
	}
	env.log.wait(t, "event=end", "user=jse-frank", "mode=shared", fmt.Sprintf("jail=%d", oldInit))
}

// TestZygoteDeathEndsJail kills the zygote of a shared jail, and of a
// private jail that root entered. Only the zygote can end the sessions it
// forked, so each jail ends with it, and the shared jail's end is audited
// with the zygote's status.
func TestZygoteDeathEndsJail(t *testing.T) {
	t.Run("shared", func(t *testing.T) {
		first := sshAsync(t, "jse-erin", "exec sleep 315")
		waitForProcess(t, "jse-erin", "sleep 315")
		init := waitForComm(t, "jse-erin", "jailsh-init")
		zygote := waitForComm(t, "jse-erin", "jailsh-zygote")
		if err := unix.Kill(zygote, unix.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if r := await(t, first, "a login whose zygote was killed"); r.code == 0 {
			t.Errorf("a login whose zygote was killed succeeded: %v", r)
		}
		env.log.wait(t, "event=end", "user=jse-erin", "mode=shared", "status=137",
			"reason=\"the jail's zygote ended\"", fmt.Sprintf("jail=%d", init))
		env.log.wait(t, "event=leave", "user=jse-erin", "status=137",
			"reason=\"the jail ended under the session\"", fmt.Sprintf("jail=%d", init))
		waitUserGone(t, "jse-erin", "the end of a shared jail whose zygote was killed")
	})
	t.Run("private", func(t *testing.T) {
		login := sshAsync(t, "jse-dave", "exec sleep 316")
		waitForProcess(t, "jse-dave", "sleep 316")
		entered := make(chan result, 1)
		go func() { entered <- jailctl(t, "", "enter", "jse-dave", "--", "sleep", "317") }()
		waitForProcess(t, "jse-dave", "sleep 317")
		zygote := waitForComm(t, "jse-dave", "jailsh-zygote")
		if err := unix.Kill(zygote, unix.SIGKILL); err != nil {
			t.Fatal(err)
		}
		r := await(t, login, "a private login whose jail lost its zygote")
		if r.code != 128+9 {
			t.Errorf("status of a private login whose jail lost its zygote = %d, want %d: %v", r.code, 128+9, r)
		}
		if r.stderr != "jailsh: the jail ended\n" {
			t.Errorf("message of a private login whose jail lost its zygote = %q, want jailsh: the jail ended", r.stderr)
		}
		r = await(t, entered, "jailctl enter whose zygote was killed")
		if r.code != 128+9 || r.stderr != "jailctl: the jail ended\n" {
			t.Errorf("jailctl enter whose zygote was killed: %v, want status %d and jailctl: the jail ended", r, 128+9)
		}
		env.log.wait(t, "event=end", "user=jse-dave", "status=137", "reason=\"the jail ended under the session\"")
		env.log.wait(t, "event=leave", "user=jse-dave", "mode=admin", "status=137", "reason=\"the jail ended under the session\"")
		waitUserGone(t, "jse-dave", "the end of a private jail whose zygote was killed")
	})
}

// auditField returns the value of key in an audit line.
func auditField(line, key string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// TestPrivateLoginsApart logs in twice as a private user: neither login
// sees or signals the other's processes.
func TestPrivateLoginsApart(t *testing.T) {
	first := sshAsync(t, "jse-alice", "readlink /proc/self/ns/pid; exec sleep 313")
	waitForProcess(t, "jse-alice", "sleep 313")
	r := ssh(t, "jse-alice", "", "readlink /proc/self/ns/pid; ps -e -o args; pkill -x sleep; echo pkill=$?")
	if strings.Contains(r.stdout, "sleep 313") || !strings.Contains(r.stdout, "pkill=1") {
		t.Errorf("a private login sees or signals another's sleep: %v", r)
	}
	// The first login still runs; end it from the host.
	_ = exec.Command("pkill", "-u", "jse-alice", "-x", "-f", "sleep 313").Run()
	r1 := await(t, first, "the first login")
	if ns := strings.TrimSpace(r1.stdout); ns == "" || strings.Contains(r.stdout, ns) {
		t.Errorf("private logins share PID namespace %q: %v", ns, r)
	}
}

// TestSharedRace starts 20 logins of a shared user at the same instant,
// with no jail running: they must all end up in one jail, and none may
// fail.
func TestSharedRace(t *testing.T) {
	waitUserGone(t, "jse-erin", "the tests before")
	const n = 20
	var wg sync.WaitGroup
	results := make([]result, n)
	gate := make(chan struct{})
	// Each login marks its arrival in the jail's /tmp and stays until all
	// n have arrived, for 10s at most: a login that came after the others
	// ended would rightly start a jail of its own.
	command := fmt.Sprintf("readlink /proc/self/ns/pid; mktemp -p /tmp race.XXXXXX >/dev/null; "+
		"for i in $(seq 100); do [ $(ls /tmp | grep -c '^race\\.') -ge %d ] && break; sleep 0.1; done", n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			results[i] = ssh(t, "jse-erin", "", command)
		}()
	}
	close(gate)
	wg.Wait()
	namespaces := map[string]int{}
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("login %d: %v", i, r)
			continue
		}
		namespaces[strings.TrimSpace(r.stdout)]++
	}
	if len(namespaces) != 1 {
		t.Errorf("%d simultaneous logins made %d jails, want 1: %v", n, len(namespaces), namespaces)
	}
	waitUserGone(t, "jse-erin", "the race's logins")
}

// TestSharedLinger checks that a shared jail outlives its last session by
// its linger time, and no longer.
func TestSharedLinger(t *testing.T) {
	if r := ssh(t, "jse-frank", "", "echo kept > /tmp/linger-file"); r.code != 0 {
		t.Fatalf("first login: %v", r)
	}
	if r := ssh(t, "jse-frank", "", "cat /tmp/linger-file"); r.code != 0 || r.stdout != "kept\n" {
		t.Errorf("login within the linger time does not find the file: %v", r)
	}
	init := waitForComm(t, "jse-frank", "jailsh-init")
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("kill", "-0", fmt.Sprint(init)).Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the jail of jse-frank still runs 10s after its last session, with linger 2s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	env.log.wait(t, "event=end", "user=jse-frank", "mode=shared", fmt.Sprintf("jail=%d", init))
	if r := ssh(t, "jse-frank", "", "cat /tmp/linger-file"); r.code == 0 {
		t.Errorf("login after the linger time finds the old jail's file: %v", r)
	}
	waitUserGone(t, "jse-frank", "the linger test")
}

// TestSharedTerminals joins an interactive ssh -t login and a command of
// the same shared user.
func TestSharedTerminals(t *testing.T) {
	m := newTmux(t, "ssh -t "+strings.Join(sshArgs("jse-erin"), " ")+" 127.0.0.1")
	m.waitFor("erin-jail")
	m.send("touch /tmp/from-tty; tty; echo "+mark(1), "Enter")
	m.waitFor(mark(1) + "\n")
	r := ssh(t, "jse-erin", "", "test -e /tmp/from-tty && ps -e -o tty,args")
	if r.code != 0 || !strings.Contains(r.stdout, "pts/0    -bash") {
		t.Errorf("a command next to an interactive login: %v", r)
	}
	screen := m.screen()
	if !strings.Contains(screen, "/dev/pts/0") {
		t.Errorf("the interactive login's terminal is not the jail's pts/0:\n%s", screen)
	}
	m.send("exit", "Enter")
	waitUserGone(t, "jse-erin", "exit of the interactive login")
}

// TestEnter runs jailctl enter against a private jail: with a command,
// without a terminal, then with a shell on a terminal.
func TestEnter(t *testing.T) {
	first := sshAsync(t, "jse-dave", "echo dave-was-here > /tmp/enter-file; exec sleep 314")
	waitForProcess(t, "jse-dave", "sleep 314")

	r := jailctl(t, "", "enter", "jse-dave", "--", "sh", "-c", "cat /tmp/enter-file; ps -e -o args; hostname; exit 7")
	if r.code != 7 || !strings.Contains(r.stdout, "dave-was-here\n") || !strings.Contains(r.stdout, "sleep 314\n") ||
		!strings.Contains(r.stdout, "dave-jail\n") {
		t.Errorf("jailctl enter with a command: %v", r)
	}
	env.log.wait(t, "event=join", "user=jse-dave", "mode=admin", "cmd=\"sh -c cat /tmp/enter-file")
	env.log.wait(t, "event=leave", "user=jse-dave", "mode=admin", "status=7")

	// Root's own descriptors stay outside: the command reads a pipe that
	// jailctl fills, not the host file jailctl's stdin is.
	input := filepath.Join(env.base, "enter-input.txt")
	if err := os.WriteFile(input, []byte("from-root\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(input)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(filepath.Join(env.bin, "jailctl"), "enter", "jse-dave", "--", "sh", "-c", "readlink /proc/self/fd/0 /proc/self/fd/1; cat")
	cmd.Stdin = f
	r = capture(t, cmd)
	if r.code != 0 || !strings.Contains(r.stdout, "from-root\n") || strings.Contains(r.stdout, input) ||
		strings.Count(r.stdout, "pipe:[") != 2 {
		t.Errorf("jailctl enter with a file as stdin: %v", r)
	}

	m := newTmux(t, filepath.Join(env.bin, "jailctl")+" enter jse-dave")
	m.send("echo $((6*7)) $(hostname)", "Enter")
	m.waitFor("42 dave-jail")
	m.send("exit", "Enter")

	if r := jailctl(t, "", "enter", "jse-nobody-such"); r.code != 1 || !strings.Contains(r.stderr, "no running jail") {
		t.Errorf("jailctl enter of a user without a jail: %v", r)
	}
	if r := jailctl(t, "jse-dave", "enter", "jse-dave"); r.code != 1 || !strings.Contains(r.stderr, "must run as root") {
		t.Errorf("jailctl enter as a user: %v", r)
	}
	if r := jailctl(t, "", "stop", "jse-dave"); r.code != 0 {
		t.Errorf("jailctl stop: %v", r)
	}
	if r := await(t, first, "jse-dave's login"); r.code != 128+9 {
		t.Errorf("status after jailctl stop = %d, want %d", r.code, 128+9)
	}
	waitUserGone(t, "jse-dave", "jailctl stop")
}

// TestJoinSocketGuarded tries to reach a shared jail's join socket as
// another user on the host, and from inside the jail itself.
func TestJoinSocketGuarded(t *testing.T) {
	first := sshAsync(t, "jse-erin", "exec sleep 315")
	waitForProcess(t, "jse-erin", "sleep 315")
	init := waitForComm(t, "jse-erin", "jailsh-init")
	sock := fmt.Sprintf("/proc/%d/cwd/join", init)

	// jailctl list reads the mode and sessions from the init.
	jails, r := listJails(t)
	found := false
	for _, j := range jails {
		if j.ID == init {
			found = true
			if j.Mode != "shared" || j.Sessions == nil || *j.Sessions != 1 {
				t.Errorf("jse-erin's jail in jailctl list: %+v; want mode shared, 1 session", j)
			}
		}
	}
	if !found {
		t.Errorf("jailctl list lacks jail %d: %v", init, r)
	}

	// As root, the socket is there; jailctl enter uses it.
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("join socket: %v", err)
	}
	// Another user on the host: the kernel refuses /proc/PID/cwd.
	probe := exec.Command("perl", "-e", `use Socket; socket(S, PF_UNIX, SOCK_SEQPACKET, 0) or die; connect(S, pack_sockaddr_un($ARGV[0])) and print "CONNECTED\n"; print "TRIED $!\n"`, sock)
	probe.SysProcAttr = credential(lookup("jse-alice"))
	r = capture(t, probe)
	if strings.Contains(r.stdout, "CONNECTED") || !strings.Contains(r.stdout, "TRIED Permission denied") {
		t.Errorf("another user connects to the join socket: %v", r)
	}
	// Inside the jail: /proc/1/cwd is the init's, and closed to root there.
	r = ssh(t, "jse-erin", "", `perl -e 'use Socket; socket(S, PF_UNIX, SOCK_SEQPACKET, 0) or die; connect(S, pack_sockaddr_un("/proc/1/cwd/join")) and print "CONNECTED\n"; print "TRIED\n"'; ls /proc/1/cwd/ 2>&1`)
	if strings.Contains(r.stdout, "CONNECTED") || !strings.Contains(r.stdout, "TRIED") || !strings.Contains(r.stdout, "Permission denied") {
		t.Errorf("a process in the jail reaches the join socket: %v", r)
	}
	// A session cannot ptrace the zygote, which receives every session's
	// connection, though it runs with the zygote's credentials.
	r = ssh(t, "jse-erin", "", `pid=$(pgrep -x jailsh-zygote) && perl -e 'syscall(101, 16, $ARGV[0] + 0, 0, 0) == 0 and print "ATTACHED\n"; print "TRIED $!\n"' "$pid"`)
	if strings.Contains(r.stdout, "ATTACHED") || !strings.Contains(r.stdout, "TRIED Operation not permitted") {
		t.Errorf("a session ptraces the zygote: %v", r)
	}

	// A login of another shared user never lands in erin's jail.
	r = ssh(t, "jse-frank", "", "hostname; ps -e -o args")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "frank-jail\n") || strings.Contains(r.stdout, "sleep 315") {
		t.Errorf("jse-frank's login next to jse-erin's shared jail: %v", r)
	}
	_ = exec.Command("pkill", "-u", "jse-erin", "-x", "-f", "sleep 315").Run()
	await(t, first, "jse-erin's login")
	waitUserGone(t, "jse-erin", "the guard test")
}

// TestSharedStartFailureRefused checks that a shared jail that fails to
// start refuses the login, with a message and an audit record, and leaves
// nothing running.
func TestSharedStartFailureRefused(t *testing.T) {
	r := ssh(t, "jse-gina", "", "echo RAN")
	if r.code != 1 || strings.Contains(r.stdout, "RAN") {
		t.Errorf("login to a shared jail that cannot start: %v", r)
	}
	if !strings.Contains(r.stderr, "jailsh: login refused: start jail: open mount source") ||
		!strings.Contains(r.stderr, "/srv/no/such/source") {
		t.Errorf("stderr does not name the missing mount source: %q", r.stderr)
	}
	env.log.wait(t, "event=refuse", "user=jse-gina", "/srv/no/such/source")
	waitUserGone(t, "jse-gina", "a refused shared login")
}
