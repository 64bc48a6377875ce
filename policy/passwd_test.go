package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

const testPasswd = `# Managed by configuration management.
# name:password:uid:gid:gecos:home:shell
root:x:0:0:root:/root:/bin/bash
short:x:1
toolong:x:1:1::/:/bin/sh:extra
+nisuser:x:1007:1007::/home/nis:/bin/sh
+::::::
-blocked:x:1002:1002::/home/blocked:/bin/sh
:x:1004:1004::/home/noname:/bin/sh
alice:x:1000:1000:Alice,,,:/home/alice:/usr/local/bin/jailsh
badgid:x:1003:staff::/home/g:/bin/sh
baduid:x:one:1005::/home/u:/bin/sh
neg:x:-1:0::/:/bin/sh

bob:x:1001:100::/home/bob:/bin/bash
alice2:x:1000:1000::/home/alice2:/bin/sh
alice:x:1006:1006::/home/second:/bin/sh
`

func TestFindUID(t *testing.T) {
	tests := []struct {
		name string
		uid  int
		want *User // nil when no entry may match
	}{
		{"root", 0, &User{Name: "root", UID: 0, GID: 0, Home: "/root", Shell: "/bin/bash"}},
		{"first of two entries", 1000, &User{Name: "alice", UID: 1000, GID: 1000, Home: "/home/alice", Shell: "/usr/local/bin/jailsh"}},
		{"after blank line", 1001, &User{Name: "bob", UID: 1001, GID: 100, Home: "/home/bob", Shell: "/bin/bash"}},
		{"short line skipped", 1, nil},
		{"NIS include skipped", 1007, nil},
		{"NIS exclusion skipped", 1002, nil},
		{"empty name skipped", 1004, nil},
		{"non-numeric gid skipped", 1003, nil},
		{"negative uid skipped", -1, nil},
		{"no entry", 4242, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := FindUID(strings.NewReader(testPasswd), tc.uid)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("FindUID(%d) = %+v, want an error", tc.uid, u)
				}
				if u != nil {
					t.Errorf("FindUID(%d) returned %+v with the error, want nil", tc.uid, u)
				}
				return
			}
			if err != nil {
				t.Fatalf("FindUID(%d): %v", tc.uid, err)
			}
			if *u != *tc.want {
				t.Errorf("FindUID(%d) = %+v, want %+v", tc.uid, *u, *tc.want)
			}
		})
	}
}

func TestFindUIDNotFoundMessage(t *testing.T) {
	_, err := FindUID(strings.NewReader(testPasswd), 4242)
	if err == nil {
		t.Fatal("FindUID(4242) error = nil, want one")
	}
	if want := "uid 4242 has no passwd entry"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestFindName(t *testing.T) {
	tests := []struct {
		name string
		user string
		want *User
	}{
		{"first of two entries", "alice", &User{Name: "alice", UID: 1000, GID: 1000, Home: "/home/alice", Shell: "/usr/local/bin/jailsh"}},
		{"shared uid", "alice2", &User{Name: "alice2", UID: 1000, GID: 1000, Home: "/home/alice2", Shell: "/bin/sh"}},
		{"last line", "bob", &User{Name: "bob", UID: 1001, GID: 100, Home: "/home/bob", Shell: "/bin/bash"}},
		{"comment line", "# Managed by configuration management.", nil},
		{"comment with seven fields", "# name", nil},
		{"NIS include line", "+nisuser", nil},
		{"NIS default line", "+", nil},
		{"NIS exclusion line", "-blocked", nil},
		{"NIS name without sign", "blocked", nil},
		{"short line", "short", nil},
		{"line with eight fields", "toolong", nil},
		{"non-numeric uid", "baduid", nil},
		{"empty name", "", nil},
		{"no entry", "carol", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := FindName(strings.NewReader(testPasswd), tc.user)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("FindName(%q) = %+v, want an error", tc.user, u)
				}
				if u != nil {
					t.Errorf("FindName(%q) returned %+v with the error, want nil", tc.user, u)
				}
				return
			}
			if err != nil {
				t.Fatalf("FindName(%q): %v", tc.user, err)
			}
			if *u != *tc.want {
				t.Errorf("FindName(%q) = %+v, want %+v", tc.user, *u, *tc.want)
			}
		})
	}
}

func TestFindNameNotFoundMessage(t *testing.T) {
	_, err := FindName(strings.NewReader(testPasswd), "carol")
	if err == nil {
		t.Fatal("FindName(carol) error = nil, want one")
	}
	if want := `user "carol" has no passwd entry`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestFindReadError(t *testing.T) {
	errDisk := errors.New("disk failed")
	if _, err := FindUID(iotest.ErrReader(errDisk), 0); !errors.Is(err, errDisk) {
		t.Errorf("FindUID error = %v, want it to wrap %v", err, errDisk)
	}
	if _, err := FindName(iotest.ErrReader(errDisk), "root"); !errors.Is(err, errDisk) {
		t.Errorf("FindName error = %v, want it to wrap %v", err, errDisk)
	}
}

func TestLookupFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(path, []byte(testPasswd), 0o644); err != nil {
		t.Fatal(err)
	}

	u, err := LookupUID(path, 1001)
	if err != nil {
		t.Fatalf("LookupUID: %v", err)
	}
	if u.Name != "bob" {
		t.Errorf("LookupUID(1001).Name = %q, want bob", u.Name)
	}

	u, err = LookupName(path, "alice")
	if err != nil {
		t.Fatalf("LookupName: %v", err)
	}
	if u.UID != 1000 {
		t.Errorf("LookupName(alice).UID = %d, want 1000", u.UID)
	}

	missing := filepath.Join(t.TempDir(), "none")
	if _, err := LookupUID(missing, 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LookupUID on a missing file: error %v, want os.ErrNotExist", err)
	}
	if _, err := LookupName(missing, "root"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LookupName on a missing file: error %v, want os.ErrNotExist", err)
	}
}

// A commented-out entry must not shadow a live one with the same uid.
func TestFindSkipsCommentedEntry(t *testing.T) {
	const passwd = "#old:x:1000:1000::/home/old:/bin/sh\n" +
		"  \t#indented:x:1000:1000::/home/indented:/bin/sh\n" +
		"alice:x:1000:1000::/home/alice:/bin/sh\n"

	u, err := FindUID(strings.NewReader(passwd), 1000)
	if err != nil {
		t.Fatalf("FindUID(1000): %v", err)
	}
	if u.Name != "alice" {
		t.Errorf("FindUID(1000).Name = %q, want alice", u.Name)
	}
	for _, name := range []string{"#old", "  \t#indented"} {
		if u, err := FindName(strings.NewReader(passwd), name); err == nil {
			t.Errorf("FindName(%q) = %+v, want an error", name, u)
		}
	}
}

// A line longer than bufio.Scanner's default 64 KiB limit must not end the
// scan before the entries after it.
func TestFindAfterLongLine(t *testing.T) {
	long := "bulk:x:2000:2000:" + strings.Repeat("g", 512*1024) + ":/home/bulk:/bin/sh\n"
	passwd := long + "alice:x:1000:1000::/home/alice:/bin/sh\n"

	u, err := FindUID(strings.NewReader(passwd), 1000)
	if err != nil {
		t.Fatalf("FindUID(1000): %v", err)
	}
	if u.Name != "alice" {
		t.Errorf("FindUID(1000).Name = %q, want alice", u.Name)
	}
	u, err = FindName(strings.NewReader(passwd), "alice")
	if err != nil {
		t.Fatalf("FindName(alice): %v", err)
	}
	if u.UID != 1000 {
		t.Errorf("FindName(alice).UID = %d, want 1000", u.UID)
	}
}
