package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// withGroup creates a host group with members for the length of the test.
func withGroup(t *testing.T, name string, members ...string) {
	t.Helper()
	_ = exec.Command("groupdel", name).Run()
	if out, err := exec.Command("groupadd", name).CombinedOutput(); err != nil {
		t.Fatalf("groupadd %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("groupdel", name).CombinedOutput(); err != nil {
			t.Errorf("groupdel %s: %v: %s", name, err, out)
		}
	})
	for _, m := range members {
		if out, err := exec.Command("usermod", "-aG", name, m).CombinedOutput(); err != nil {
			t.Fatalf("usermod -aG %s %s: %v: %s", name, m, err, out)
		}
	}
}

// withGroupsDir creates the policy's groups.d folder for the length of
// the test, when it does not exist yet.
func withGroupsDir(t *testing.T) {
	t.Helper()
	dir := filepath.Join(env.policyDir, "groups.d")
	if _, err := os.Stat(dir); err == nil {
		return
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
}

func policyPath(name string) string { return filepath.Join(env.policyDir, name) }

func TestGroupSettingAtLogin(t *testing.T) {
	withGroup(t, "jse-staff", "jse-dave")
	withGroupsDir(t)
	withFile(t, "groups.d/jse-staff.toml", "env = { JSE_GROUP = \"staff\" }\n")
	r := ssh(t, "jse-dave", "", "echo $JSE_GROUP; hostname")
	if r.code != 0 {
		t.Fatalf("ssh: %v", r)
	}
	// The user's own table still sets the hostname over the group.
	if r.stdout != "staff\ndave-jail\n" {
		t.Errorf("JSE_GROUP, hostname = %q, want staff from the group and dave-jail from the user", r.stdout)
	}
	// jse-bob is not in the group.
	if r := ssh(t, "jse-bob", "", "echo \"[$JSE_GROUP]\""); r.code != 0 || r.stdout != "[]\n" {
		t.Errorf("jse-bob, not in jse-staff: %v, want no JSE_GROUP", r)
	}
}

// TestGroupConflictRefusedThenOrdered sets one variable to two values in
// two groups of one user: the login is refused and check names both
// places, until group_order decides.
func TestGroupConflictRefusedThenOrdered(t *testing.T) {
	withGroup(t, "jse-staff", "jse-dave")
	withGroup(t, "jse-lab", "jse-dave")
	withGroupsDir(t)
	withFile(t, "groups.d/jse-staff.toml", "env = { JSE_GROUP = \"staff\" }\n")
	withFile(t, "groups.d/jse-lab.toml", "# the lab machines\nenv = { JSE_GROUP = \"lab\" }\n")
	staff, lab := policyPath("groups.d/jse-staff.toml"), policyPath("groups.d/jse-lab.toml")

	want := fmt.Sprintf(`%s:1: key "env.JSE_GROUP": groups jse-staff and jse-lab of user jse-dave conflict on env.JSE_GROUP: group jse-staff sets "staff" here, group jse-lab sets "lab" at %s:2`, staff, lab)
	refused(t, ssh(t, "jse-dave", "", "echo SHELL-RAN"), "jse-dave", want)
	r := jailctl(t, "", "check")
	if r.code != 1 || !strings.Contains(r.stderr, "jailctl check: "+want) {
		t.Errorf("check of a group conflict: %v, want it to report %q", r, want)
	}

	main, err := os.ReadFile(policyPath("jailsh.toml"))
	if err != nil {
		t.Fatal(err)
	}
	withFile(t, "jailsh.toml", "group_order = [\"jse-lab\", \"jse-staff\"]\n"+string(main))
	if r := ssh(t, "jse-dave", "", "echo $JSE_GROUP"); r.code != 0 || r.stdout != "staff\n" {
		t.Errorf("login with group_order: %v, want staff, the group listed last", r)
	}
	r = jailctl(t, "", "check", "--user", "jse-dave")
	if r.code != 0 {
		t.Fatalf("check --user: %v", r)
	}
	for _, want := range []string{
		"# groups with settings, in the order they apply: jse-lab, jse-staff\n",
		`env.JSE_GROUP = "staff"  # ` + staff + ":1\n",
		`hostname = "dave-jail"  # ` + policyPath("jailsh.toml") + ":",
		`shell = "/bin/bash"  # default` + "\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check --user output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestPlaceholderInMountPath(t *testing.T) {
	data := filepath.Join(env.base, "data", "jse-dave")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(filepath.Join(env.base, "data"))
	if err := os.WriteFile(filepath.Join(data, "marker"), []byte("dave's data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	withFile(t, "users.d/jse-dave.toml", fmt.Sprintf("[[mounts]]\nsource = %q\ntarget = \"/tmp/%%u-data\"\n", filepath.Join(env.base, "data", "%u")))

	r := ssh(t, "jse-dave", "", "cat /tmp/jse-dave-data/marker")
	if r.code != 0 || r.stdout != "dave's data\n" {
		t.Errorf("cat through a mount with placeholders: %v", r)
	}
	r = jailctl(t, "", "check", "--user", "jse-dave")
	want := fmt.Sprintf(`mount = { source = %q, target = "/tmp/jse-dave-data", mode = "ro", optional = false }  # %s:1`, data, policyPath("users.d/jse-dave.toml"))
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("check --user: %v, want the expanded mount %q", r, want)
	}
}

// A placeholder that would lead out of the path the admin wrote refuses
// the login: jse-dave's home is changed to one with "..".
func TestPlaceholderOutsidePathRefused(t *testing.T) {
	withFile(t, "users.d/jse-dave.toml", "[[mounts]]\nsource = \"%h/shared\"\ntarget = \"/srv\"\n")
	// usermod -d refuses while the account runs a process, and sshd's
	// session process of the test before may still be ending.
	waitUserGone(t, "jse-dave", "the tests before")
	if out, err := exec.Command("usermod", "-d", "/home/../etc", "jse-dave").CombinedOutput(); err != nil {
		t.Fatalf("usermod -d: %v: %s", err, out)
	}
	defer func() {
		if out, err := exec.Command("usermod", "-d", "/home/jse-dave", "jse-dave").CombinedOutput(); err != nil {
			t.Errorf("restore the home of jse-dave: %v: %s", err, out)
		}
	}()
	refused(t, jailsh(t, "jse-dave", nil, "-jailsh"), "jse-dave", `home folder "/home/../etc" of user jse-dave in the passwd entry is not an absolute, clean path`)
}

// TestBrokenEditKeepsRunningSessions breaks the main file while a session
// runs: new logins are refused with the file and line, and the running
// session goes on to its end.
func TestBrokenEditKeepsRunningSessions(t *testing.T) {
	cmd := exec.Command("ssh", append(sshArgs("jse-alice"), "127.0.0.1", "sleep 6; echo session-ended")...)
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ended := false
	defer func() {
		if !ended {
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	pid := waitForProcess(t, "jse-alice", "sleep 6")

	main, err := os.ReadFile(policyPath("jailsh.toml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(string(main), "\n")
	withFile(t, "jailsh.toml", string(main)+"[users.jse-alice]\nhostname = \"twice\"\n")
	want := fmt.Sprintf("%s:%d: ", policyPath("jailsh.toml"), lines+1)
	refused(t, ssh(t, "jse-bob", "", "echo SHELL-RAN"), "jse-bob", want)
	refused(t, ssh(t, "jse-alice", "", "echo SHELL-RAN"), "jse-alice", "has already been defined")
	if err := syscall.Kill(pid, 0); err != nil {
		t.Errorf("the running session's sleep (pid %d) ended with the edit: %v", pid, err)
	}

	select {
	case err := <-done:
		ended = true
		if err != nil || out.String() != "session-ended\n" {
			t.Errorf("running session: %v, output %q, want it to end normally", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Error("running session did not end within 30s")
	}
}

// TestCheckReportsOrphanEntries names policy files for a group and a user
// that have no entry in the host's databases.
func TestCheckReportsOrphanEntries(t *testing.T) {
	withGroupsDir(t)
	withFile(t, "groups.d/jse-nosuch.toml", "hostname = \"x\"\n")
	withFile(t, "users.d/jse-ghost.toml", "hostname = \"x\"\n")
	r := jailctl(t, "", "check")
	for _, want := range []string{
		policyPath("groups.d/jse-nosuch.toml") + ": group jse-nosuch has no entry in /etc/group; remove its settings, or create the group",
		policyPath("users.d/jse-ghost.toml") + `: user "jse-ghost" has no passwd entry; remove its entry, or create the account`,
	} {
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("check: %v, want it to report %q", r, want)
		}
	}
}

// TestCheckReportsEveryBrokenFile guards against check stopping at the
// first broken file.
func TestCheckReportsEveryBrokenFile(t *testing.T) {
	withGroupsDir(t)
	withFile(t, "groups.d/jse-staff.toml", "network = \"bridge\"\n")
	r := jailctl(t, "", "check")
	for _, want := range []string{
		policyPath("users.d/jse-broken.toml") + `:2: key "netwrok": unknown key`,
		policyPath("groups.d/jse-staff.toml") + `:1: key "network": invalid network "bridge"`,
		// Accounts that no broken file concerns are still checked.
		"user jse-noroot: root filesystem /srv/no/such/root is missing",
	} {
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("check: %v, want it to report %q", r, want)
		}
	}
}
