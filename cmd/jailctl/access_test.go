package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPermitsClasses(t *testing.T) {
	id := identity{uid: 1000, gids: map[int]bool{1000: true, 50: true}}
	cases := []struct {
		name     string
		uid, gid int
		perm     fs.FileMode
		want     fs.FileMode
		ok       bool
	}{
		{"owner read", 1000, 0, 0o400, accessRead, true},
		{"owner without read, others with", 1000, 0, 0o044, accessRead, false},
		{"group read", 0, 50, 0o640, accessRead, true},
		{"group without search", 0, 50, 0o705, accessSearch, false},
		{"other read", 0, 0, 0o644, accessRead, true},
		{"other none", 0, 0, 0o600, accessRead, false},
		{"other search", 0, 0, 0o711, accessSearch, true},
	}
	for _, c := range cases {
		if got := id.permits(c.uid, c.gid, c.perm, c.want); got != c.ok {
			t.Errorf("%s: permits = %v, want %v", c.name, got, c.ok)
		}
	}
}

func TestReachProblemNamesPathAndFix(t *testing.T) {
	dir := t.TempDir()
	// The testing package makes the folder above dir private.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "jailsh.toml")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// An identity that owns nothing here, as a jailed user would.
	id := identity{uid: 54321, gids: map[int]bool{54321: true}}

	got := reachProblem(id, file, true)
	want := "cannot read " + file + " (mode 0600, owner 0:0), so every login is refused; run: chmod a+r " + file
	if got != want {
		t.Errorf("unreadable file:\n got %q\nwant %q", got, want)
	}

	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := reachProblem(id, file, true); got != "" {
		t.Errorf("readable file: %q, want no problem", got)
	}

	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	got = reachProblem(id, file, true)
	if !strings.Contains(got, "cannot search "+dir+" (mode 0700") || !strings.HasSuffix(got, "run: chmod a+x "+dir) {
		t.Errorf("folder closed to others: %q, want it named with chmod a+x", got)
	}

	// A symlink leads to the folder it names, which is the one reported.
	link := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+"-link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(link) })
	if got := reachProblem(id, filepath.Join(link, "jailsh.toml"), true); !strings.Contains(got, "cannot search "+dir+" ") {
		t.Errorf("closed folder behind a symlink: %q, want the folder named", got)
	}

	if got := reachProblem(id, "relative/path", true); got != "" {
		t.Errorf("relative path: %q, want no problem reported", got)
	}
}
