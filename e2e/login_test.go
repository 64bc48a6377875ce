package e2e

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSSHCommandRunsInJail(t *testing.T) {
	r := ssh(t, "jse-alice", "", "hostname; id -u; cat /etc/debian_version")
	if r.code != 0 {
		t.Fatalf("ssh: %v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %q", r.stdout)
	}
	if lines[0] != "alice-jail" {
		t.Errorf("hostname = %q, want the policy's alice-jail", lines[0])
	}
	if lines[1] != "0" {
		t.Errorf("id -u = %q, want 0 (root inside the user namespace)", lines[1])
	}
	if !strings.HasPrefix(lines[2], "12.") {
		t.Errorf("debian_version = %q, want the bookworm root filesystem's 12.x", lines[2])
	}
}

func TestUserNamespaceMapsOnlyTheUser(t *testing.T) {
	a := lookup("jse-alice")
	done := make(chan result, 1)
	go func() { done <- ssh(t, "jse-alice", "", "exec sleep 308") }()
	pid := waitForProcess(t, "jse-alice", "sleep 308")
	defer func() {
		syscallKill(pid)
		<-done
	}()
	// Read from the host, the maps show the user's own ids; read inside,
	// they show ids relative to the jail's parent namespace.
	var got []string
	for _, f := range []string{"uid_map", "gid_map", "setgroups"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Fields(string(data))...)
	}
	want := []string{"0", strconv.Itoa(a.uid), "1", "0", strconv.Itoa(a.gid), "1", "deny"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("uid_map, gid_map, setgroups of a jailed process = %q, want %q", got, want)
	}
}

func TestExitStatusPassesThrough(t *testing.T) {
	cases := []struct {
		name, cmd string
		want      int
	}{
		{"success", "true", 0},
		{"exit code", "exit 42", 42},
		{"signal death", "kill -KILL $$", 128 + 9},
		{"command not found", "no-such-command-xyz", 127},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ssh(t, "jse-alice", "", c.cmd)
			if r.code != c.want {
				t.Errorf("exit status of %q = %d, want %d (%v)", c.cmd, r.code, c.want, r)
			}
		})
	}
}

func TestNothingExtraOnStdout(t *testing.T) {
	r := ssh(t, "jse-alice", "", "true")
	if r.stdout != "" {
		t.Errorf("stdout of `true` = %q, want nothing: a stray byte breaks scp, rsync and sftp", r.stdout)
	}
	r = ssh(t, "jse-alice", "", "printf abc")
	if r.stdout != "abc" {
		t.Errorf("stdout of `printf abc` = %q, want exactly %q", r.stdout, "abc")
	}
}

func TestStdinPassesThrough(t *testing.T) {
	input := strings.Repeat("line of input\n", 10000)
	r := ssh(t, "jse-alice", input, "wc -c")
	if strings.TrimSpace(r.stdout) != strconv.Itoa(len(input)) {
		t.Errorf("wc -c in the jail = %q, want %d (%v)", r.stdout, len(input), r)
	}
}

// TestHalfClose checks that the end of stdin reaches the jailed command
// while its output goes on, as rsync and git over ssh rely on.
func TestHalfClose(t *testing.T) {
	r := ssh(t, "jse-alice", "some input\n", "cat; echo after-eof; echo to-stderr >&2")
	if r.stdout != "some input\nafter-eof\n" || r.stderr != "to-stderr\n" {
		t.Errorf("output after the end of input: %v", r)
	}
}

// TestProcessesIsolated guards against a jail that sees or signals host
// processes, including the user's own processes outside the jail.
func TestProcessesIsolated(t *testing.T) {
	a := lookup("jse-alice")
	outside := exec.Command("sleep", "300")
	outside.SysProcAttr = credential(a)
	if err := outside.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { outside.Process.Kill(); outside.Wait() }()

	r := ssh(t, "jse-alice", "", fmt.Sprintf("ps -eo pid=,comm=; kill -0 %d && echo REACHED", outside.Process.Pid))
	if strings.Contains(r.stdout, "REACHED") {
		t.Errorf("the jail signalled host process %d", outside.Process.Pid)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		switch f[1] {
		case "jailsh-init", "bash", "ps":
		default:
			t.Errorf("ps in the jail lists %q, which is not the jail's", line)
		}
	}
	if !strings.Contains(r.stdout, "1 jailsh-init") {
		t.Errorf("ps in the jail does not list the jail's init as PID 1: %q", r.stdout)
	}
}

// TestSessionsIsolated guards against one login seeing another's
// processes.
func TestSessionsIsolated(t *testing.T) {
	first := exec.Command("ssh", append(sshArgs("jse-alice"), "127.0.0.1", "exec sleep 31")...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	pid := waitForProcess(t, "jse-alice", "sleep 31")
	defer func() {
		syscallKill(pid)
		first.Wait()
	}()

	r := ssh(t, "jse-alice", "", "ps -eo comm=")
	if strings.Contains(r.stdout, "sleep") {
		t.Errorf("a second login sees the first one's sleep: %q", r.stdout)
	}
}

// TestAdminSeesAndKillsJailedProcesses checks the host side: the jail's
// processes are ordinary processes of the user there.
func TestAdminSeesAndKillsJailedProcesses(t *testing.T) {
	done := make(chan result, 1)
	go func() { done <- ssh(t, "jse-alice", "", "exec sleep 60") }()
	pid := waitForProcess(t, "jse-alice", "sleep 60")
	if err := syscallKill(pid); err != nil {
		t.Fatalf("kill jailed sleep %d from the host: %v", pid, err)
	}
	select {
	case r := <-done:
		if r.code != 128+15 {
			t.Errorf("session status after the admin's SIGTERM = %d, want %d", r.code, 128+15)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end after the admin killed its process")
	}
}

func TestFilesystemView(t *testing.T) {
	secret := filepath.Join(env.base, "host-secret")
	if err := os.WriteFile(secret, []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := strings.Join([]string{
		"cat " + secret + " 2>/dev/null && echo SECRET-READ",
		"ls /dev | tr '\\n' ' '; echo",
		"awk '$5==\"/proc\"{print $9}' /proc/self/mountinfo",
		"awk '$5==\"/tmp\"{print $9}' /proc/self/mountinfo",
		"awk '$5==\"/dev/pts\"{print $9}' /proc/self/mountinfo",
		"touch /etc/jailsh-test 2>/dev/null && echo ROOT-WRITABLE",
		"touch /tmp/x && echo TMP-WRITABLE",
		"pwd",
		"grep -c . /proc/self/mountinfo",
		"grep -c " + env.base + " /proc/self/mountinfo",
	}, "; ")
	r := ssh(t, "jse-alice", "", script)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 8 {
		t.Fatalf("want 8 lines, got %v", r)
	}
	if strings.Contains(r.stdout, "SECRET-READ") {
		t.Error("the jail read a host file outside its root filesystem")
	}
	if got, want := strings.TrimSpace(lines[0]), "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero"; got != want {
		t.Errorf("ls /dev = %q, want %q", got, want)
	}
	if lines[1] != "proc" || lines[2] != "tmpfs" || lines[3] != "devpts" {
		t.Errorf("types of /proc, /tmp, /dev/pts = %q, want proc, tmpfs, devpts", lines[1:4])
	}
	if lines[4] != "TMP-WRITABLE" {
		t.Errorf("/tmp not writable, or the root was (%q)", lines[4])
	}
	if lines[5] != "/home/jse-alice" {
		t.Errorf("working folder = %q, want the home folder", lines[5])
	}
	if lines[7] != "0" {
		t.Errorf("mountinfo names the host folder %s %s times; the old root must be detached", env.base, lines[7])
	}
}

// TestChrootEscapeFails runs the classic escape of a chroot by root:
// chroot into a subfolder, then climb out with "..". After pivot_root and
// detaching the old root there is nothing above the jail's root to reach.
func TestChrootEscapeFails(t *testing.T) {
	secret := filepath.Join(env.base, "escape-secret")
	if err := os.WriteFile(secret, []byte("host file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	perl := fmt.Sprintf(`mkdir "/tmp/e"; chroot "/tmp/e" or die "chroot: $!"; chdir ".." for 1..64; chroot "." or die; open(F, "<", %q) or die "no host file: $!\n"; print <F>;`, secret)
	r := ssh(t, "jse-alice", "", "perl -e '"+perl+"'")
	if strings.Contains(r.stdout, "host file") {
		t.Fatal("chroot escape read a host file from inside the jail")
	}
	if !strings.Contains(r.stderr, "no host file") {
		t.Errorf("the escape attempt did not run as written: %v", r)
	}
}

func TestHomeBoundReadWrite(t *testing.T) {
	a := lookup("jse-alice")
	r := ssh(t, "jse-alice", "", "echo from-jail > ~/written-in-jail && ls /home")
	if r.code != 0 {
		t.Fatalf("ssh: %v", r)
	}
	if strings.TrimSpace(r.stdout) != "jse-alice" {
		t.Errorf("ls /home in the jail = %q, want only the user's own home", r.stdout)
	}
	path := "/home/jse-alice/written-in-jail"
	data, err := os.ReadFile(path)
	if err != nil || string(data) != "from-jail\n" {
		t.Fatalf("file written in the jail, read on the host: %q, %v", data, err)
	}
	if owner := fileOwner(t, path); owner != a.uid {
		t.Errorf("owner on the host = %d, want the user's uid %d", owner, a.uid)
	}
}

func TestNetworkNone(t *testing.T) {
	r := ssh(t, "jse-alice", "", fmt.Sprintf("ip -o link | awk '{print $2, $3}'; (echo > /dev/tcp/127.0.0.1/%d) 2>/dev/null && echo CONNECTED", env.sshPort))
	if strings.Contains(r.stdout, "CONNECTED") {
		t.Error("the jail reached the host's sshd on 127.0.0.1; want a private network")
	}
	got := strings.TrimSpace(r.stdout)
	if got != "lo: <LOOPBACK,UP,LOWER_UP>" {
		t.Errorf("links in the jail = %q, want only lo, up", got)
	}
}

func TestNetworkHost(t *testing.T) {
	r := ssh(t, "jse-bob", "", fmt.Sprintf("(echo > /dev/tcp/127.0.0.1/%d) && echo CONNECTED; hostname", env.sshPort))
	if !strings.Contains(r.stdout, "CONNECTED") {
		t.Errorf("network = \"host\" jail cannot reach 127.0.0.1:%d: %v", env.sshPort, r)
	}
	if !strings.Contains(r.stdout, "bob-jail") {
		t.Errorf("hostname = %q, want bob-jail: the UTS namespace stays private", r.stdout)
	}
}

// TestInteractiveTerminal logs in with a terminal, types at the prompt with
// a correction, and checks what came back.
func TestInteractiveTerminal(t *testing.T) {
	// \x7f is the erase key: "echo abX<erase>c" must run as "echo abc".
	input := "echo ab" + "X\x7f" + "c\nhostname\ntty\nexit 3\n"
	r := run(t, input, "ssh", append(sshArgs("jse-alice"), "-tt", "127.0.0.1")...)
	if r.code != 3 {
		t.Errorf("exit status = %d, want 3: %v", r.code, r)
	}
	if !strings.Contains(r.stdout, "root@alice-jail:") {
		t.Errorf("no bash prompt root@alice-jail: in %q", r.stdout)
	}
	if !strings.Contains(r.stdout, "\rabc\r\n") {
		t.Errorf("line editing: want the output abc on a line of its own in %q", r.stdout)
	}
	if strings.Contains(r.stdout, "no job control") || strings.Contains(r.stdout, "cannot set terminal process group") {
		t.Errorf("bash complains about job control: %q", r.stdout)
	}
}

func TestForceCommand(t *testing.T) {
	r := ssh(t, "jse-carol", "", "hostname; echo $SSH_ORIGINAL_COMMAND >&2")
	if strings.TrimSpace(r.stdout) != "carol-jail" {
		t.Errorf("ForceCommand jailsh: hostname = %q, want carol-jail (%v)", r.stdout, r)
	}
	env.log.wait(t, "event=start", "user=jse-carol", "mode=forced", "cmd=\"hostname;")
}

func TestScpSftpRsyncGit(t *testing.T) {
	src := filepath.Join(t.TempDir(), "payload")
	payload := strings.Repeat("0123456789abcdef", 1<<16)
	if err := os.WriteFile(src, []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	sshCmd := "ssh " + strings.Join(sshArgs("jse-alice"), " ")
	scpArgs := []string{"-F", "/dev/null", "-i", env.key, "-P", strconv.Itoa(env.sshPort),
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"}

	check := func(name string) {
		t.Helper()
		data, err := os.ReadFile("/home/jse-alice/" + name)
		if err != nil || string(data) != payload {
			t.Errorf("%s in the home after the copy: %d bytes, %v; want %d bytes", name, len(data), err, len(payload))
		}
	}
	if r := run(t, "", "scp", append(scpArgs, src, "jse-alice@127.0.0.1:via-sftp")...); r.code != 0 {
		t.Errorf("scp (sftp protocol): %v", r)
	}
	check("via-sftp")
	if r := run(t, "", "scp", append(append([]string{"-O"}, scpArgs...), src, "jse-alice@127.0.0.1:via-scp")...); r.code != 0 {
		t.Errorf("scp -O (scp protocol): %v", r)
	}
	check("via-scp")
	if r := run(t, "", "rsync", "-e", sshCmd, src, "127.0.0.1:via-rsync"); r.code != 0 {
		t.Errorf("rsync: %v", r)
	}
	check("via-rsync")

	if r := ssh(t, "jse-alice", "", "git init -q --bare repo.git"); r.code != 0 {
		t.Fatalf("git init in the jail: %v", r)
	}
	clone := filepath.Join(t.TempDir(), "clone")
	r := run(t, "", "env", "GIT_SSH_COMMAND="+sshCmd, "git", "clone", "-q", "127.0.0.1:repo.git", clone)
	if r.code != 0 {
		t.Errorf("git clone over ssh: %v", r)
	}
	if _, err := os.Stat(filepath.Join(clone, ".git")); err != nil {
		t.Errorf("git clone made no repository: %v", err)
	}
}

func TestAuditStartAndEnd(t *testing.T) {
	ssh(t, "jse-dave", "", "exit 7")
	a := lookup("jse-dave")
	env.log.wait(t, "<86>", "event=start", "user=jse-dave", "uid="+strconv.Itoa(a.uid), "mode=command", "root="+env.rootfs, `cmd="exit 7"`)
	end := env.log.wait(t, "event=end", "user=jse-dave", "status=7")
	if !strings.Contains(end, "duration=") {
		t.Errorf("end record has no duration: %q", end)
	}
}

// TestNothingSurvivesLogout guards against jailed processes outliving the
// session, even ones started in the background and detached.
func TestNothingSurvivesLogout(t *testing.T) {
	r := ssh(t, "jse-dave", "", "setsid sleep 600 < /dev/null > /dev/null 2>&1 & nohup sleep 601 > /dev/null 2>&1 & echo started")
	if !strings.Contains(r.stdout, "started") {
		t.Fatalf("ssh: %v", r)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		out, _ := exec.Command("pgrep", "-u", "jse-dave").Output()
		if len(strings.TrimSpace(string(out))) == 0 {
			return
		}
		if time.Now().After(deadline) {
			ps, _ := exec.Command("ps", "-o", "pid,comm,args", "-u", "jse-dave").Output()
			t.Fatalf("processes of jse-dave still run 3s after logout:\n%s", ps)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTermIgnoredKillsJail sends SIGTERM to jailsh while the jail's
// program ignores it: a second later jailsh kills the jail itself, which
// its record must not blame on the jail ending under the session.
func TestTermIgnoredKillsJail(t *testing.T) {
	cmd := exec.Command(filepath.Join(env.bin, "jailsh"), "-c", "trap '' TERM; echo ready; sleep 30; true")
	cmd.SysProcAttr = credential(lookup("jse-alice"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	buf := make([]byte, 6)
	if _, err := io.ReadFull(out, buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("jail's first output = %q, %v; want ready", buf, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()

	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 128+9 {
		t.Errorf("jailsh after SIGTERM that the program ignores: %v, want exit status %d", err, 128+9)
	}
	if strings.Contains(stderr.String(), "the jail ended") {
		t.Errorf("jailsh blamed its own kill on the jail: %q", stderr.String())
	}
	end := env.log.wait(t, "event=end", "user=jse-alice", "status=137", fmt.Sprintf("pid=%d", cmd.Process.Pid))
	if strings.Contains(end, "reason=") {
		t.Errorf("end record of a jail that jailsh killed has a reason: %q", end)
	}
}

// TestMountsLocked guards against root in the jail undoing the jail's
// mounts: remounting a read-only bind or the root read-write, unmounting
// a mount to uncover what lies below, or changing the jail's hostname or
// network. Root may still mount in namespaces of its own.
func TestMountsLocked(t *testing.T) {
	data := userFolder(t, "jse-dave", "dave-data")
	withFile(t, "users.d/jse-dave.toml", fmt.Sprintf("[[mounts]]\nsource = %q\ntarget = \"/mnt\"\nmode = \"ro\"\n", data))
	script := strings.Join([]string{
		"touch /mnt/x 2>/dev/null && echo WROTE-READ-ONLY",
		"mount -o remount,bind,rw /mnt 2>/dev/null && echo REMOUNTED-BIND",
		"touch /mnt/y 2>/dev/null && echo WROTE-AFTER-REMOUNT",
		"mount -o remount,bind,rw / 2>/dev/null && echo REMOUNTED-ROOT",
		"umount /tmp 2>/dev/null && echo UNMOUNTED-TMP",
		"umount -l /home 2>/dev/null && echo UNMOUNTED-HOME",
		"hostname evil 2>/dev/null && echo HOSTNAME-CHANGED",
		"ip link set lo down 2>/dev/null && echo LO-DOWN",
		"mount -t tmpfs none /media && touch /media/ok && echo OWN-MOUNT-WORKS",
	}, "; ")
	r := ssh(t, "jse-dave", "", script)
	if got := strings.TrimSpace(r.stdout); got != "OWN-MOUNT-WORKS" {
		t.Errorf("root in the jail: got %q, want only OWN-MOUNT-WORKS (%v)", got, r)
	}
	for _, f := range []string{"x", "y"} {
		if _, err := os.Stat(filepath.Join(data, f)); err == nil {
			t.Errorf("the jail wrote %s through a read-only bind", f)
		}
	}
}
