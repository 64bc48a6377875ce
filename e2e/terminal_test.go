package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxSession is a terminal the test types into and reads, on a tmux
// server of the test's own.
type tmuxSession struct {
	t      *testing.T
	socket string
}

// newTmux starts cmd in a fresh 100x30 terminal.
func newTmux(t *testing.T, cmd string) *tmuxSession {
	t.Helper()
	m := &tmuxSession{t: t, socket: filepath.Join(env.base, "tmux-"+strings.ReplaceAll(t.Name(), "/", "-"))}
	m.run("new-session", "-d", "-s", "test", "-x", "100", "-y", "30", cmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", m.socket, "kill-server").Run() })
	return m
}

func (m *tmuxSession) run(args ...string) string {
	m.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", m.socket}, args...)...).CombinedOutput()
	if err != nil {
		m.t.Fatalf("tmux %s: %v: %s", args, err, out)
	}
	return string(out)
}

// send types keys; plain text, or tmux key names such as Enter and C-c.
func (m *tmuxSession) send(keys ...string) {
	m.t.Helper()
	m.run(append([]string{"send-keys", "-t", "test"}, keys...)...)
}

func (m *tmuxSession) screen() string {
	m.t.Helper()
	return m.run("capture-pane", "-p", "-t", "test")
}

// waitFor waits up to ten seconds for text to appear on the screen and
// returns the screen.
func (m *tmuxSession) waitFor(text string) string {
	m.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := m.screen()
		if strings.Contains(s, text) {
			return s
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("%q did not appear on the screen within 10s; screen:\n%s", text, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mark returns a unique marker that a test prints to know a command ran.
// The test looks for it alone on a line, not in the echoed command.
func mark(n int) string { return fmt.Sprintf("MARK%02dDONE", n) }

// TestTerminalAfterSu is the admin's case: `su - USER` from a root shell.
// The jail gets its own terminal with job control; nothing it does reaches
// the root shell's terminal, and the terminal comes back as it was.
func TestTerminalAfterSu(t *testing.T) {
	pwned := filepath.Join(env.base, "pwned")
	m := newTmux(t, "bash --norc --noprofile")
	m.send(`PS1='HOST$ '; stty -g > `+env.base+`/stty-before; su - jse-alice`, "Enter")
	m.waitFor("root@alice-jail:~#")

	m.send("tty; stty size; echo "+mark(1), "Enter")
	s := m.waitFor("\n" + mark(1) + "\n")
	if !strings.Contains(s, "/dev/pts/0\n30 100\n") {
		t.Errorf("tty and size in the jail: want /dev/pts/0 and 30 100; screen:\n%s", s)
	}

	m.run("resize-window", "-t", "test", "-x", "120", "-y", "40")
	m.send("stty size; echo "+mark(2), "Enter")
	if s := m.waitFor("\n" + mark(2) + "\n"); !strings.Contains(s, "40 120\n") {
		t.Errorf("after a resize to 120x40, stty size in the jail does not say 40 120; screen:\n%s", s)
	}

	// Job control: stop a job, bring it back, interrupt it.
	m.send("sleep 100", "Enter")
	time.Sleep(300 * time.Millisecond)
	m.send("C-z")
	m.waitFor("Stopped                 sleep 100")
	m.send("fg", "Enter")
	time.Sleep(300 * time.Millisecond)
	m.send("C-c")
	m.send("jobs; echo "+mark(3), "Enter")
	s = m.waitFor("\n" + mark(3) + "\n")
	if strings.Contains(s, "no job control") || strings.Contains(s, "cannot set terminal process group") {
		t.Errorf("bash reports broken job control; screen:\n%s", s)
	}

	// TIOCSTI pushes input into a terminal. Inside the jail it must land
	// in the jail's own terminal, and so never reach the root shell
	// that runs once the jail's shell exits.
	inject := fmt.Sprintf(`perl -e 'ioctl(STDIN, 0x5412, $_) for split //, "touch %s\n"'; exit`, pwned)
	m.send(inject, "Enter")
	// Keys typed before the root shell's prompt shows would go to the
	// jail's relay and be lost, so wait for it.
	m.waitFor("logout\nHOST$")
	m.send("stty -g | cmp -s - "+env.base+"/stty-before && echo MODES-RESTORED; echo "+mark(4), "Enter")
	s = m.waitFor("\n" + mark(4) + "\n")
	if !strings.Contains(s, "MODES-RESTORED") {
		t.Errorf("the terminal's modes differ after the jail ended; screen:\n%s", s)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := os.Stat(pwned); err == nil {
		t.Error("input pushed with TIOCSTI in the jail ran in the root shell outside")
	}
}

// TestTerminalOverSSH drives an ssh -t login: prompt, line editing and a
// full-screen program.
func TestTerminalOverSSH(t *testing.T) {
	m := newTmux(t, "ssh -t "+strings.Join(sshArgs("jse-alice"), " ")+" 127.0.0.1")
	m.waitFor("root@alice-jail:~#")

	m.send("echo abX", "BSpace", "c", "Enter")
	m.waitFor("\nabc\n")

	m.send("less /etc/os-release", "Enter")
	m.waitFor("PRETTY_NAME")
	m.send("q")
	m.send("echo "+mark(1), "Enter")
	s := m.waitFor("\n" + mark(1) + "\n")
	if strings.Contains(s, "PRETTY_NAME") {
		t.Errorf("less did not restore the screen on exit:\n%s", s)
	}
}

func TestZombiesReaped(t *testing.T) {
	// Each subshell exits at once, so its sleep is orphaned and adopted by
	// the jail's init, which must reap it when it exits.
	r := ssh(t, "jse-alice", "", "for i in 1 2 3 4 5; do (sleep 0.1 &); done; sleep 1; ps -eo stat=,comm=")
	if r.code != 0 {
		t.Fatalf("ssh: %v", r)
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "Z") {
			t.Errorf("zombie left in the jail: %q", line)
		}
	}
}

// waitUserGone waits up to five seconds until user runs no process.
func waitUserGone(t *testing.T, user, after string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, _ := exec.Command("pgrep", "-u", user).Output()
		if len(strings.TrimSpace(string(out))) == 0 {
			return
		}
		if time.Now().After(deadline) {
			ps, _ := exec.Command("ps", "-o", "pid,stat,comm,args", "-u", user).Output()
			t.Fatalf("processes of %s still run 5s after %s:\n%s", user, after, ps)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestKillOfJailshEndsJail(t *testing.T) {
	cmd := exec.Command("ssh", append(sshArgs("jse-dave"), "127.0.0.1", "sleep 302 & sleep 303")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	waitForProcess(t, "jse-dave", "sleep 303")
	outer := waitForComm(t, "jse-dave", "jailsh")
	if err := exec.Command("kill", "-KILL", fmt.Sprint(outer)).Run(); err != nil {
		t.Fatal(err)
	}
	waitUserGone(t, "jse-dave", "kill -9 of jailsh")
}

func TestHangupEndsInteractiveJail(t *testing.T) {
	m := newTmux(t, "ssh -t "+strings.Join(sshArgs("jse-dave"), " ")+" 127.0.0.1")
	m.waitFor("root@dave-jail:~#")
	m.send("sleep 304 & sleep 305", "Enter")
	waitForProcess(t, "jse-dave", "sleep 305")
	// Closing the terminal ends ssh; sshd then hangs up jailsh.
	m.run("kill-server")
	waitUserGone(t, "jse-dave", "the ssh connection closed")
}

func TestTermEndsInteractiveJail(t *testing.T) {
	m := newTmux(t, "ssh -t "+strings.Join(sshArgs("jse-dave"), " ")+" 127.0.0.1")
	m.waitFor("root@dave-jail:~#")
	m.send("sleep 306 &", "Enter")
	waitForProcess(t, "jse-dave", "sleep 306")
	outer := waitForComm(t, "jse-dave", "jailsh")
	// An interactive bash ignores SIGTERM, so this also checks that the
	// jail is killed when it does not end by itself.
	if err := exec.Command("kill", "-TERM", fmt.Sprint(outer)).Run(); err != nil {
		t.Fatal(err)
	}
	waitUserGone(t, "jse-dave", "SIGTERM to jailsh")
}

// TestTerminalRestoredAfterCrash kills the jail's init from the host, the
// way a crash would end the jail, and checks that the terminal comes back
// in the modes it had.
func TestTerminalRestoredAfterCrash(t *testing.T) {
	m := newTmux(t, "bash --norc --noprofile")
	m.send(`PS1='HOST$ '; stty -g > `+env.base+`/stty-crash; su - jse-alice`, "Enter")
	m.waitFor("root@alice-jail:~#")
	init := waitForComm(t, "jse-alice", "jailsh-init")
	if err := exec.Command("kill", "-KILL", fmt.Sprint(init)).Run(); err != nil {
		t.Fatal(err)
	}
	// jailsh prints the jail's end on a line of its own, with the
	// terminal back in its modes, and the host's prompt follows.
	m.waitFor("root@alice-jail:~#\njailsh: the jail ended\nHOST$")
	m.send("echo status=$?; stty -g | cmp -s - "+env.base+"/stty-crash && echo MODES-RESTORED; echo "+mark(1), "Enter")
	s := m.waitFor("\n" + mark(1) + "\n")
	if !strings.Contains(s, "status=137") {
		t.Errorf("su's status after the init was killed: want 137 (128+SIGKILL); screen:\n%s", s)
	}
	if !strings.Contains(s, "MODES-RESTORED") {
		t.Errorf("the terminal's modes differ after the jail crashed; screen:\n%s", s)
	}
}
