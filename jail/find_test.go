package jail

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A name with a space and a ')' must not shift the fields after it.
	data := "4242 (evil) name) S 4200 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 987654 1234567 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	st, err := parseStat(data)
	if err != nil {
		t.Fatal(err)
	}
	if st.Comm != "evil) name" {
		t.Errorf("Comm = %q, want %q", st.Comm, "evil) name")
	}
	if st.PPID != 4200 {
		t.Errorf("PPID = %d, want 4200", st.PPID)
	}
	if st.StartTime != 987654 {
		t.Errorf("StartTime = %d, want 987654", st.StartTime)
	}
	if _, err := parseStat("4242 no parentheses"); err == nil {
		t.Error("parseStat without a name: want an error")
	}
}

func TestParseStatus(t *testing.T) {
	data := "Name:\tjailsh-init\nUid:\t1001\t1001\t1001\t1001\nGid:\t1001\t1001\t1001\t1001\nNSpid:\t5120\t1\n"
	s, err := parseStatus(data)
	if err != nil {
		t.Fatal(err)
	}
	if s.UID != 1001 {
		t.Errorf("UID = %d, want 1001", s.UID)
	}
	if len(s.NSpid) != 2 || s.NSpid[0] != 5120 || s.NSpid[1] != 1 {
		t.Errorf("NSpid = %v, want [5120 1]", s.NSpid)
	}
	if _, err := parseStatus("Name:\tx\n"); err == nil {
		t.Error("parseStatus without Uid: want an error")
	}
}

func TestIsJailInit(t *testing.T) {
	init := procStat{Comm: InitArg0}
	nested := procStatus{UID: 1001, NSpid: []int{5120, 1}}
	cases := []struct {
		name   string
		st     procStat
		status procStatus
		exe    string
		owner  uint32
		mode   uint32
		want   bool
	}{
		{"jail init", init, nested, "/usr/local/bin/jailsh", 0, 0o755, true},
		{"jailctl run's init", init, nested, "/usr/local/sbin/jailctl", 0, 0o755, true},
		{"process named like an init", procStat{Comm: "sleep"}, nested, "/usr/local/bin/jailsh", 0, 0o755, false},
		{"init name on another binary", init, nested, "/usr/bin/python3", 0, 0o755, false},
		{"user's own copy of jailsh", init, nested, "/home/bob/jailsh", 1002, 0o755, false},
		{"group-writable binary", init, nested, "/opt/jailsh", 0, 0o775, false},
		{"not PID 1 of a namespace", init, procStatus{UID: 1001, NSpid: []int{5120, 7}}, "/usr/local/bin/jailsh", 0, 0o755, false},
		{"host PID namespace", init, procStatus{UID: 1001, NSpid: []int{5120}}, "/usr/local/bin/jailsh", 0, 0o755, false},
	}
	for _, c := range cases {
		if got := isJailInit(c.st, c.status, c.exe, c.owner, c.mode); got != c.want {
			t.Errorf("%s: isJailInit = %t, want %t", c.name, got, c.want)
		}
	}
}

func TestRootOf(t *testing.T) {
	cases := []struct{ name, mountinfo, want string }{
		{"directory root", "545 520 254:0 /srv/jails/book\\040worm / ro,nosuid,nodev,relatime - ext4 /dev/vda rw\n546 545 0:50 / /proc rw - proc proc rw\n", "/srv/jails/book worm"},
		{"tmpfs root", "600 580 0:61 / / ro,nosuid,nodev - tmpfs tmpfs rw,mode=755\n", "tmpfs"},
		{"no root mount", "546 545 0:50 / /proc rw - proc proc rw\n", ""},
	}
	for _, c := range cases {
		if got := rootOf(c.mountinfo); got != c.want {
			t.Errorf("%s: rootOf = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestBootTimeFromStat(t *testing.T) {
	dir := t.TempDir()
	stat := "cpu  1 2 3 4\nintr 5\nctxt 6\nbtime 1764892800\nprocesses 7\n"
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := bootTime(dir); !got.Equal(time.Unix(1764892800, 0)) {
		t.Errorf("bootTime = %v, want %v", got, time.Unix(1764892800, 0))
	}
	if got := bootTime(filepath.Join(dir, "missing")); !got.IsZero() {
		t.Errorf("bootTime without a stat file = %v, want the zero time", got)
	}
}
