package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func credential(a account) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid)}}
}

// waitForProcess returns the host PID of user's process whose command
// line is exactly cmdline, waiting up to ten seconds for it to appear.
func waitForProcess(t *testing.T, user, cmdline string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := exec.Command("pgrep", "-u", user, "-x", "-f", cmdline).Output()
		if f := strings.Fields(string(out)); len(f) > 0 {
			pid, _ := strconv.Atoi(f[0])
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("no process %q of %s within 10s", cmdline, user)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }

func fileOwner(t *testing.T, path string) int {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}

// waitForComm returns the host PID of user's process whose command name
// is comm, waiting up to ten seconds for it to appear.
func waitForComm(t *testing.T, user, comm string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := exec.Command("pgrep", "-u", user, "-x", comm).Output()
		if f := strings.Fields(string(out)); len(f) == 1 {
			pid, _ := strconv.Atoi(f[0])
			return pid
		} else if len(f) > 1 {
			t.Fatalf("%d processes %s of %s, want one", len(f), comm, user)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no process %s of %s within 10s", comm, user)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// userFolder creates the folder name under the test's base folder, owned
// by user, and returns its path.
func userFolder(t *testing.T, user, name string) string {
	t.Helper()
	a := lookup(user)
	dir := filepath.Join(env.base, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, a.uid, a.gid); err != nil {
		t.Fatal(err)
	}
	return dir
}
