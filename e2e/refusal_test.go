package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// refused checks that a login was refused the way every refusal must be:
// exit status 1, a message on stderr, nothing on stdout, no shell run,
// and an audit record.
func refused(t *testing.T, r result, user string, wantMsg string) {
	t.Helper()
	if r.code != 1 {
		t.Errorf("exit status = %d, want 1 for a refused login (%v)", r.code, r)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing: a refusal writes to stderr only", r.stdout)
	}
	if !strings.Contains(r.stderr, "jailsh: login refused: ") || !strings.Contains(r.stderr, wantMsg) {
		t.Errorf("stderr = %q, want a refusal that says %q", r.stderr, wantMsg)
	}
	if strings.Contains(r.stdout+r.stderr, "SHELL-RAN") {
		t.Error("a shell ran although the login was refused")
	}
	// The audit record quotes the reason as a Go string.
	env.log.wait(t, "event=refuse", "user="+user, strings.Trim(strconv.Quote(wantMsg), `"`))
}

// withFile replaces a policy file for the length of the test.
func withFile(t *testing.T, name, text string) {
	t.Helper()
	path := filepath.Join(env.policyDir, name)
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if old == nil {
			os.Remove(path)
		} else {
			os.WriteFile(path, old, 0o644)
		}
	})
}

func TestRefuseUnknownPolicyKey(t *testing.T) {
	r := ssh(t, "jse-broken", "", "echo SHELL-RAN")
	refused(t, r, "jse-broken", "users.d/jse-broken.toml:2: key \"netwrok\": unknown key")
}

func TestRefuseMissingRootFilesystem(t *testing.T) {
	r := ssh(t, "jse-noroot", "", "echo SHELL-RAN")
	refused(t, r, "jse-noroot", "root filesystem /srv/no/such/root of user jse-noroot is missing: no such file or directory; "+
		"create it, or correct root at "+filepath.Join(env.policyDir, "users.d/jse-noroot.toml")+":1")
}

// TestRefusePolicyUnreadableByUser makes a policy file that root reads
// and the user cannot: the login is refused with the fix, and jailctl
// check, which runs as root, reports it too.
func TestRefusePolicyUnreadableByUser(t *testing.T) {
	withFile(t, "users.d/jse-alice.toml", "hostname = \"alice-jail\"\n")
	file := filepath.Join(env.policyDir, "users.d/jse-alice.toml")
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	r := ssh(t, "jse-alice", "", "echo SHELL-RAN")
	refused(t, r, "jse-alice", "every jailed user must be able to read the policy: run chmod a+r on its files")

	r = jailctl(t, "", "check")
	want := "user jse-alice: cannot read " + file + " (mode 0600, owner 0:0), so every login is refused; run: chmod a+r " + file
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("jailctl check of a policy file the user cannot read: %v, want %q", r, want)
	}
}

// TestRefuseUnreachableOptionalMount gives jse-dave an optional mount
// whose source exists in a folder the user cannot search: the mount is
// not skipped as a missing source would be, and the login is refused.
func TestRefuseUnreachableOptionalMount(t *testing.T) {
	closed := filepath.Join(env.base, "closed")
	if err := os.MkdirAll(filepath.Join(closed, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(closed) })
	source := filepath.Join(closed, "data")
	withFile(t, "users.d/jse-dave.toml", fmt.Sprintf("[[mounts]]\nsource = %q\ntarget = \"/mnt\"\noptional = true\n", source))

	r := ssh(t, "jse-dave", "", "echo SHELL-RAN")
	refused(t, r, "jse-dave", source)
	if !strings.Contains(r.stderr, "permission denied") {
		t.Errorf("refusal of an unreachable mount source = %q, want permission denied", r.stderr)
	}
}

func TestRefuseInteractiveLoginOnBrokenPolicy(t *testing.T) {
	r := run(t, "echo SHELL-RAN\nexit\n", "ssh", append(sshArgs("jse-broken"), "-tt", "127.0.0.1")...)
	if strings.Contains(r.stdout, "SHELL-RAN\r\n") && strings.Contains(r.stdout, "#") {
		t.Fatalf("an interactive shell ran for a broken policy: %q", r.stdout)
	}
	if r.code != 1 {
		t.Errorf("exit status = %d, want 1", r.code)
	}
	if !strings.Contains(r.stdout+r.stderr, "login refused") {
		t.Errorf("no refusal message: %v", r)
	}
}

func TestRefuseUnsafePolicyFile(t *testing.T) {
	main := filepath.Join(env.policyDir, "jailsh.toml")
	a := lookup("jse-alice")
	cases := []struct {
		name    string
		change  func() error
		restore func() error
		want    string
	}{
		{"group writable", func() error { return os.Chmod(main, 0o664) }, func() error { return os.Chmod(main, 0o644) },
			"is writable by group or others (mode 0664); run: chmod go-w " + main},
		{"owned by the user", func() error { return os.Chown(main, a.uid, 0) }, func() error { return os.Chown(main, 0, 0) },
			fmt.Sprintf("is owned by uid %d, not root", a.uid)},
		{"folder world writable", func() error { return os.Chmod(env.policyDir, 0o757) }, func() error { return os.Chmod(env.policyDir, 0o755) },
			"untrusted policy folder"},
		{"policy folder missing", func() error { return os.Rename(env.policyDir, env.policyDir+".away") },
			func() error { return os.Rename(env.policyDir+".away", env.policyDir) }, "no such file or directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.change(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := c.restore(); err != nil {
					t.Fatalf("restore the policy: %v", err)
				}
			}()
			refused(t, ssh(t, "jse-alice", "", "echo SHELL-RAN"), "jse-alice", c.want)
		})
	}
}

func TestRefuseSymlinkedPolicyFile(t *testing.T) {
	real := filepath.Join(env.base, "dave-real.toml")
	if err := os.WriteFile(real, []byte("hostname = \"linked\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(env.policyDir, "users.d", "jse-dave.toml")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(link)
	refused(t, ssh(t, "jse-dave", "", "echo SHELL-RAN"), "jse-dave", "is a symlink")
}

func TestRefuseUntrustedRootFilesystem(t *testing.T) {
	root := userFolder(t, "jse-dave", "user-owned-root")
	withFile(t, "users.d/jse-dave.toml", fmt.Sprintf("root = %q\n", root))
	refused(t, ssh(t, "jse-dave", "", "echo SHELL-RAN"), "jse-dave", "untrusted root filesystem: "+root+" is owned by uid")
}

func TestRefuseFailedMount(t *testing.T) {
	withFile(t, "users.d/jse-dave.toml", "[[mounts]]\nsource = \"/usr/share\"\ntarget = \"/no-such-target\"\n")
	refused(t, ssh(t, "jse-dave", "", "echo SHELL-RAN"), "jse-dave", "mount target /no-such-target does not exist in the root filesystem")
}

func TestRefuseMissingShell(t *testing.T) {
	withFile(t, "users.d/jse-dave.toml", "shell = \"/bin/no-such-shell\"\n")
	refused(t, ssh(t, "jse-dave", "", "echo SHELL-RAN"), "jse-dave", "/bin/no-such-shell not found in the jail's root filesystem")
}

// TestRefuseWithoutUserNamespaces runs jailsh where the kernel refuses new
// user namespaces, as on a hardened host: inside a user namespace whose
// max_user_namespaces is 0, as the test user.
func TestRefuseWithoutUserNamespaces(t *testing.T) {
	a := lookup("jse-dave")
	script := fmt.Sprintf("echo 0 > /proc/sys/user/max_user_namespaces && exec setpriv --reuid %d --regid %d --clear-groups %s -c 'echo SHELL-RAN'",
		a.uid, a.gid, filepath.Join(env.bin, "jailsh"))
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: a.uid, HostID: a.uid, Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: a.gid, HostID: a.gid, Size: 1}},
		GidMappingsEnableSetgroups: true,
	}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	}
	refused(t, r, "jse-dave", "create namespaces")
	if !strings.Contains(r.stderr, "max_user_namespaces") {
		t.Errorf("stderr = %q, want a hint at the user.max_user_namespaces limit", r.stderr)
	}
}

func TestRefuseRoot(t *testing.T) {
	cmd := exec.Command(filepath.Join(env.bin, "jailsh"), "-c", "echo SHELL-RAN")
	out, err := cmd.CombinedOutput()
	if err == nil || strings.Contains(string(out), "SHELL-RAN") {
		t.Fatalf("jailsh ran a shell for root: %q, %v", out, err)
	}
	if !strings.Contains(string(out), "jailsh does not jail root") {
		t.Errorf("output = %q, want the reason", out)
	}
}

func TestRefuseUIDWithoutPasswdEntry(t *testing.T) {
	cmd := exec.Command(filepath.Join(env.bin, "jailsh"), "-c", "echo SHELL-RAN")
	cmd.SysProcAttr = credential(account{uid: 54321, gid: 54321})
	out, err := cmd.CombinedOutput()
	if err == nil || strings.Contains(string(out), "SHELL-RAN") {
		t.Fatalf("jailsh ran a shell for a uid without a passwd entry: %q, %v", out, err)
	}
	if !strings.Contains(string(out), "uid 54321 has no passwd entry") {
		t.Errorf("output = %q, want the reason", out)
	}
	env.log.wait(t, "event=refuse", "uid=54321")
}

func TestRefuseUnknownArguments(t *testing.T) {
	r := jailsh(t, "jse-alice", nil, "jailsh", "--policy", "/tmp/mine.toml")
	refused(t, r, "jse-alice", "unsupported argument \"--policy\"")
}

// TestIdentityFromKernel guards against picking the policy from anything
// the user controls: the environment names another user, and the
// arguments cannot name a policy.
func TestIdentityFromKernel(t *testing.T) {
	spoof := []string{"USER=jse-bob", "LOGNAME=jse-bob", "HOME=/home/jse-bob", "JAILSH_POLICY_DIR=/tmp", "SUDO_USER=jse-bob"}
	r := jailsh(t, "jse-alice", spoof, "jailsh", "-c", "hostname; echo $USER $HOME")
	if r.code != 0 {
		t.Fatalf("jailsh: %v", r)
	}
	if r.stdout != "alice-jail\njse-alice /home/jse-alice\n" {
		t.Errorf("output = %q, want alice's jail and identity whatever the environment says", r.stdout)
	}
}

// TestEnvironmentScrubbed guards against variables that change how
// programs load or run crossing into the jail.
func TestEnvironmentScrubbed(t *testing.T) {
	login := []string{"LD_PRELOAD=/tmp/evil.so", "LD_LIBRARY_PATH=/tmp", "BASH_ENV=/tmp/evil", "IFS=x",
		"BASH_FUNC_ls%%=() { echo evil; }", "PATH=/tmp/evil", "LANG=C.UTF-8", "TERM=xterm-test", "RANDOM_VAR=1"}
	r := jailsh(t, "jse-alice", login, "jailsh", "-c", "env")
	if r.code != 0 {
		t.Fatalf("jailsh: %v", r)
	}
	got := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	for _, k := range []string{"LD_PRELOAD", "LD_LIBRARY_PATH", "BASH_ENV", "IFS", "BASH_FUNC_ls%%", "RANDOM_VAR"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s crossed into the jail", k)
		}
	}
	if got["PATH"] != "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin" {
		t.Errorf("PATH = %q, want the policy's default", got["PATH"])
	}
	if got["LANG"] != "C.UTF-8" || got["TERM"] != "xterm-test" {
		t.Errorf("LANG, TERM = %q, %q, want them kept", got["LANG"], got["TERM"])
	}
}

// TestNoInheritedDescriptors opens a host folder in jailsh's parent and
// leaves it open across the exec: the jail's shell must not get it, and
// the jail's init, which could hold host objects, must be out of reach.
func TestNoInheritedDescriptors(t *testing.T) {
	a := lookup("jse-alice")
	f, err := os.Open(env.base)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// ls runs alone: in a pipeline the shell holds the pipe's ends for a
	// moment after forking, and ls could list them.
	cmd := exec.Command(filepath.Join(env.bin, "jailsh"), "-c", "ls /proc/$$/fd; echo --; readlink -v /proc/1/fd/0 /proc/1/root 2>&1; true")
	cmd.ExtraFiles = []*os.File{f, f, f}
	cmd.SysProcAttr = credential(a)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("jailsh: %v", err)
	}
	fds, rest, ok := strings.Cut(string(out), "--\n")
	lines := strings.Split(strings.TrimSpace(rest), "\n")
	if !ok || len(lines) != 2 {
		t.Fatalf("output = %q, want descriptors, -- and 2 lines", out)
	}
	if got := strings.Fields(fds); strings.Join(got, " ") != "0 1 2" {
		t.Errorf("descriptors of the jail's shell = %q, want 0 1 2", got)
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "Permission denied") {
			t.Errorf("readlink of the init's stdin and root = %q, want permission denied", l)
		}
	}
}

func TestAuditRefusalHasUser(t *testing.T) {
	ssh(t, "jse-noroot", "", "true")
	a := lookup("jse-noroot")
	msg := env.log.wait(t, "event=refuse", "user=jse-noroot", "uid="+strconv.Itoa(a.uid), "mode=command")
	if !strings.HasPrefix(msg, "<84>") {
		t.Errorf("refusal priority: %q, want <84> (authpriv.warning)", msg[:5])
	}
}

// TestRefuseWithoutSyslog moves the syslog socket away: a session that
// cannot be audited must not start.
func TestRefuseWithoutSyslog(t *testing.T) {
	away := env.log.path + ".away"
	if err := os.Rename(env.log.path, away); err != nil {
		t.Fatal(err)
	}
	defer os.Rename(away, env.log.path)
	r := ssh(t, "jse-alice", "", "echo SHELL-RAN")
	if r.code != 1 || r.stdout != "" {
		t.Errorf("login without syslog: %v; want exit 1 and nothing on stdout", r)
	}
	if !strings.Contains(r.stderr, "jailsh: login refused: failed to open syslog, which records every session: ") ||
		!strings.Contains(r.stderr, env.log.path) || !strings.Contains(r.stderr, "is a syslog daemon") {
		t.Errorf("stderr = %q, want the refusal naming syslog, its socket and the fix", r.stderr)
	}
}
