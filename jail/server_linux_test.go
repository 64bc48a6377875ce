package jail

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestLeadConfirmed checks that lead returns only once the init has
// marked the jail ready: the join that follows must not find it starting.
func TestLeadConfirmed(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	login := os.NewFile(uintptr(fds[0]), "login")
	// The linger time keeps the server from ending the jail, which exits
	// the process, when the socket closes after the test.
	srv := &server{spec: &Spec{Shared: true, Linger: time.Hour}, state: stateStarting, holders: 1, zygote: -1}
	go srv.holdCreator(os.NewFile(uintptr(fds[1]), "init"))

	si := &sharedInit{pid: os.Getpid(), link: login}
	if err := si.lead(); err != nil {
		t.Fatalf("lead: %v", err)
	}
	srv.mu.Lock()
	state := srv.state
	srv.mu.Unlock()
	if state != stateReady {
		t.Errorf("state after lead returned = %q, want %q", state, stateReady)
	}
}

// TestLeadClosingJail checks that lead fails when the jail is already
// ending, so that the login does not try to join it.
func TestLeadClosingJail(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv := &server{spec: &Spec{Shared: true, Linger: time.Hour}, state: stateClosing, holders: 1, zygote: -1}
	go srv.holdCreator(os.NewFile(uintptr(fds[1]), "init"))

	si := &sharedInit{pid: os.Getpid(), link: os.NewFile(uintptr(fds[0]), "login")}
	if err := si.lead(); err == nil {
		t.Errorf("lead of a closing jail succeeded")
	}
}

// TestSupersedeNewerPolicyOnly checks that only a login with a newer
// policy supersedes a shared jail: one that read the policy before a
// change must not cut the linger of the jail built after it.
func TestSupersedeNewerPolicyOnly(t *testing.T) {
	cases := []struct {
		name       string
		key        string
		policyTime int64
		want       bool
	}{
		{"same key", "current", 200, false},
		{"older policy", "old", 100, false},
		{"same time", "other", 150, false},
		{"jailctl run", "other", 0, false},
		{"newer policy", "new", 300, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A holder keeps idle from ending the jail, which exits the
			// process.
			srv := &server{spec: &Spec{Shared: true, Linger: time.Hour, PolicyTime: 150},
				key: "current", state: stateReady, holders: 1, zygote: -1}
			srv.supersede(c.key, c.policyTime)
			if srv.superseded != c.want {
				t.Errorf("superseded = %v, want %v", srv.superseded, c.want)
			}
		})
	}
}
