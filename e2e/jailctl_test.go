package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func jailctl(t *testing.T, user string, args ...string) result {
	t.Helper()
	if user == "" {
		return run(t, "", filepath.Join(env.bin, "jailctl"), args...)
	}
	cmd := exec.Command(filepath.Join(env.bin, "jailctl"), args...)
	cmd.SysProcAttr = credential(lookup(user))
	cmd.Dir = "/"
	return capture(t, cmd)
}

// validPolicyDir writes a policy folder with one valid entry and returns it.
func validPolicyDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(env.base, "policy-ok-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf("[defaults]\nroot = %q\n\n[users.jse-alice]\nhostname = \"checked\"\n\n[[users.jse-alice.mounts]]\nsource = \"/usr/share/doc\"\ntarget = \"/srv\"\n", env.rootfs)
	if err := os.WriteFile(filepath.Join(dir, "jailsh.toml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCheckNamesFileLineKey(t *testing.T) {
	r := jailctl(t, "", "check")
	if r.code != 1 {
		t.Errorf("exit status = %d, want 1 for the broken test policy", r.code)
	}
	want := filepath.Join(env.policyDir, "users.d/jse-broken.toml") + `:2: key "netwrok": unknown key`
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
}

func TestCheckValidPolicy(t *testing.T) {
	dir := validPolicyDir(t)
	r := jailctl(t, "", "check", "--dir", dir)
	// Every test account has jailsh as its shell; only jse-alice has an
	// entry, so the others are reported as refused.
	if r.code != 1 || !strings.Contains(r.stderr, "user jse-bob has no entry in the policy") {
		t.Errorf("check of accounts without an entry: %v", r)
	}
	if strings.Contains(r.stderr, "jse-alice") {
		t.Errorf("jse-alice's valid entry reported: %q", r.stderr)
	}
}

func TestCheckUserPrintsEffectivePolicy(t *testing.T) {
	dir := validPolicyDir(t)
	r := jailctl(t, "", "check", "--dir", dir, "--user", "jse-alice")
	if r.code != 0 {
		t.Fatalf("check --user: %v", r)
	}
	for _, want := range []string{
		`hostname = "checked"`,
		`root = "` + env.rootfs + `"`,
		`network = "none"`,
		`mount = { source = "/usr/share/doc", target = "/srv", mode = "ro", optional = false }`,
		"bind-root " + env.rootfs + " ro\n",
		"tmpfs /home mode=0755\nbind /home/jse-alice /home/jse-alice create\n",
		"bind /usr/share/doc /srv ro\n",
		"bind /usr/share/doc /srv ro\npivot-root\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check --user output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestCheckUserRoot(t *testing.T) {
	dir := validPolicyDir(t)
	r := jailctl(t, "", "check", "--dir", dir, "--user", "root")
	if r.code != 1 || !strings.Contains(r.stderr, "jailsh never jails root") {
		t.Errorf("check --user root: %v", r)
	}
}

func TestBadFlagNamesCommand(t *testing.T) {
	r := jailctl(t, "", "list", "--xml")
	if r.code != 2 || r.stderr != "jailctl list: flag provided but not defined: -xml; see jailctl list -h\n" {
		t.Errorf("jailctl list --xml: %v", r)
	}
}

func TestCheckRejectsUnsafeFolder(t *testing.T) {
	dir := validPolicyDir(t)
	if err := os.Chmod(dir, 0o775); err != nil {
		t.Fatal(err)
	}
	r := jailctl(t, "", "check", "--dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "is writable by group or others (mode 0775); run: chmod go-w "+dir) {
		t.Errorf("check of a group-writable folder: %v", r)
	}
}

func TestRunDemoPolicyAsUser(t *testing.T) {
	r := jailctl(t, "jse-alice", "run", "--", "/bin/sh", "-c", "id -u; hostname; ls / | tr '\\n' ' '")
	if r.code != 0 {
		t.Fatalf("jailctl run: %v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || lines[0] != "0" || lines[1] != "jailsh-demo" {
		t.Fatalf("id -u, hostname = %q, want 0 and jailsh-demo", lines)
	}
	for _, d := range []string{"bin", "dev", "etc", "proc", "tmp", "usr"} {
		if !strings.Contains(" "+lines[2]+" ", " "+d+" ") {
			t.Errorf("ls / = %q, lacks %s", lines[2], d)
		}
	}
	if !strings.Contains(r.stderr, "built-in demo policy") {
		t.Errorf("stderr = %q, want a note that the demo policy is used", r.stderr)
	}
}

// TestRunUserOwnedPolicy checks that jailctl run takes a policy file the
// caller owns: it grants nothing the caller lacks.
func TestRunUserOwnedPolicy(t *testing.T) {
	a := lookup("jse-alice")
	file := filepath.Join("/home/jse-alice", "my-policy.toml")
	text := fmt.Sprintf("unlisted = \"defaults\"\n[defaults]\nroot = %q\nhostname = \"mine\"\n", env.rootfs)
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(file, a.uid, a.gid); err != nil {
		t.Fatal(err)
	}
	r := jailctl(t, "jse-alice", "run", "--policy", file, "--", "hostname")
	if r.code != 0 || r.stdout != "mine\n" {
		t.Errorf("jailctl run with the user's own policy: %v", r)
	}
}

func TestRunReportsBadPolicy(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(file, []byte("[defaults]\nroot = \"relative/path\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := jailctl(t, "", "run", "--policy", file, "--", "true")
	if r.code != 1 || !strings.Contains(r.stderr, file+`:2: key "defaults.root": invalid path "relative/path": must be absolute`) {
		t.Errorf("jailctl run with a relative root: %v", r)
	}
}

// TestRunBindsFile guards against a file source being given a folder as
// its mount point on a tmpfs root.
func TestRunBindsFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "files.toml")
	text := `unlisted = "defaults"
[defaults]
root = "tmpfs"
home = false
[[defaults.mounts]]
source = "/usr"
[[defaults.mounts]]
source = "/bin"
[[defaults.mounts]]
source = "/lib"
[[defaults.mounts]]
source = "/lib64"
optional = true
[[defaults.mounts]]
source = "/etc/os-release"
target = "/srv/os-release"
`
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	r := jailctl(t, "", "run", "--policy", file, "--", "/bin/cat", "/srv/os-release")
	host, _ := os.ReadFile("/etc/os-release")
	if r.code != 0 || r.stdout != string(host) {
		t.Errorf("cat of a file bound into a tmpfs root: %v", r)
	}
}

// TestCheckSSHD reads the test sshd's effective configuration: it leaves
// stream-local forwarding at sshd's default, yes, which check must report.
func TestCheckSSHD(t *testing.T) {
	dir := validPolicyDir(t)
	r := jailctl(t, "", "check", "--dir", dir, "--sshd", "--sshd-config", filepath.Join(env.base, "sshd_config"))
	if r.code != 1 {
		t.Errorf("exit status = %d, want 1", r.code)
	}
	want := "user jse-alice: sshd: AllowStreamLocalForwarding yes: sshd connects to the host's Unix sockets, outside the jail; set AllowStreamLocalForwarding no"
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	if strings.Contains(r.stderr, "user jse-alice: sshd: AllowTcpForwarding") {
		t.Errorf("TCP forwarding is off in the test sshd, but reported:\n%s", r.stderr)
	}
}

// TestListAndStop runs a session, finds it with jailctl list, ends it with
// jailctl stop, and checks that nothing of it remains.
// listedJail is one entry of jailctl list --json.
type listedJail struct {
	ID        int    `json:"id"`
	User      string `json:"user"`
	Root      string `json:"root"`
	Network   string `json:"network"`
	Processes int    `json:"processes"`
	Mode      string `json:"mode"`
	Sessions  *int   `json:"sessions"`
	Policy    string `json:"policy"`
}

// listJails runs jailctl list --json as root and returns its entries.
func listJails(t *testing.T) ([]listedJail, result) {
	t.Helper()
	r := jailctl(t, "", "list", "--json")
	var jails []listedJail
	if err := json.Unmarshal([]byte(r.stdout), &jails); err != nil {
		t.Fatalf("jailctl list --json: %v: %v", err, r)
	}
	return jails, r
}

func TestListAndStop(t *testing.T) {
	done := make(chan result, 1)
	go func() { done <- ssh(t, "jse-bob", "", "sleep 309 & sleep 310") }()
	waitForProcess(t, "jse-bob", "sleep 310")

	jails, r := listJails(t)
	found := false
	for _, j := range jails {
		if j.User != "jse-bob" {
			continue
		}
		found = true
		if j.Root != env.rootfs || j.Network != "host" || j.Processes != 4 {
			t.Errorf("jse-bob's jail = %+v, want root %s, network host, 4 processes (init, bash, two sleeps)", j, env.rootfs)
		}
	}
	if !found {
		t.Fatalf("jailctl list does not show jse-bob's jail: %q", r.stdout)
	}

	// A stopped init does not reply, so its mode and sessions are
	// unknown, and the JSON leaves them out.
	init := waitForComm(t, "jse-bob", "jailsh-init")
	if err := unix.Kill(init, unix.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	continued := false
	resume := func() {
		if !continued {
			continued = true
			_ = unix.Kill(init, unix.SIGCONT)
		}
	}
	t.Cleanup(resume)
	jails, r = listJails(t)
	resume()
	found = false
	for _, j := range jails {
		if j.ID != init {
			continue
		}
		found = true
		if j.Mode != "" || j.Sessions != nil {
			t.Errorf("a stopped init in jailctl list --json: %+v, want no mode and no sessions; list: %v", j, r)
		}
	}
	if !found {
		t.Errorf("jailctl list lacks the stopped jail %d: %v", init, r)
	}

	if r := jailctl(t, "", "stop", "jse-bob"); r.code != 0 || !strings.HasPrefix(r.stdout, "stopped jail ") {
		t.Errorf("jailctl stop jse-bob: %v", r)
	}
	select {
	case r := <-done:
		if r.code != 128+9 {
			t.Errorf("session status after jailctl stop = %d, want %d", r.code, 128+9)
		}
		if r.stderr != "jailsh: the jail ended\n" {
			t.Errorf("session's message after jailctl stop = %q, want %q", r.stderr, "jailsh: the jail ended\n")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end after jailctl stop")
	}
	waitUserGone(t, "jse-bob", "jailctl stop")
	env.log.wait(t, "event=stop", "user=jse-bob", "mode=admin")
	env.log.wait(t, "event=end", "user=jse-bob", "status=137", "reason=\"the jail ended under the session\"")

	if r := jailctl(t, "", "stop", "jse-bob"); r.code != 1 || !strings.Contains(r.stderr, "no running jail") {
		t.Errorf("jailctl stop with no jail: %v", r)
	}
	if r := jailctl(t, "jse-alice", "list"); r.code != 1 || !strings.Contains(r.stderr, "must run as root") {
		t.Errorf("jailctl list as a user: %v", r)
	}
}
