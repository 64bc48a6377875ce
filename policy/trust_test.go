package policy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckTrusted(t *testing.T) {
	const path = "/etc/jailsh"
	tests := []struct {
		name string
		uid  uint32
		mode fs.FileMode
		want []string // parts of the error, or nil when the path is trusted
	}{
		{"root 0755", 0, fs.ModeDir | 0o755, nil},
		{"root 0700", 0, fs.ModeDir | 0o700, nil},
		{"root 0555", 0, fs.ModeDir | 0o555, nil},
		{"root file 0644", 0, 0o644, nil},
		{"root 0775 group writable", 0, fs.ModeDir | 0o775, []string{path + " is writable by group or others (mode 0775)", "chmod go-w " + path}},
		{"root 0757 others writable", 0, fs.ModeDir | 0o757, []string{path + " is writable by group or others (mode 0757)", "chmod go-w " + path}},
		{"root 1777 sticky", 0, fs.ModeDir | fs.ModeSticky | 0o777, []string{path + " is a shared folder that others may write in (mode 1777)", "move the policy or root filesystem to a root-owned folder"}},
		{"root file 0620", 0, 0o620, []string{"(mode 0620)", "chmod go-w " + path}},
		{"user 0755", 1000, fs.ModeDir | 0o755, []string{path + " is owned by uid 1000, not root", "chown root " + path}},
		{"user 0700", 1000, fs.ModeDir | 0o700, []string{"owned by uid 1000", "chown root " + path}},
		{"user 0777 names owner first", 1000, fs.ModeDir | 0o777, []string{"owned by uid 1000", "chown root " + path}},
		{"root symlink", 0, fs.ModeSymlink | 0o777, []string{path + " is a symlink", "real path"}},
		{"user symlink", 1000, fs.ModeSymlink | 0o777, []string{path + " is a symlink"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkTrusted(path, tc.uid, tc.mode)
			if tc.want == nil {
				if err != nil {
					t.Errorf("checkTrusted(uid %d, mode %v) = %v, want nil", tc.uid, tc.mode, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("checkTrusted(uid %d, mode %v) = nil, want an error", tc.uid, tc.mode)
			}
			for _, part := range tc.want {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
		})
	}
}

func TestCheckTrustedPathRelative(t *testing.T) {
	err := CheckTrustedPath("etc/jailsh")
	if err == nil {
		t.Fatal("CheckTrustedPath(etc/jailsh) = nil, want an error")
	}
	if !strings.Contains(err.Error(), "etc/jailsh is not an absolute path") {
		t.Errorf("error %q does not say the path is not absolute", err)
	}
}

func TestCheckTrustedPathSymlink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "policy")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	err := CheckTrustedPath(link)
	if err == nil {
		t.Fatal("CheckTrustedPath on a symlink = nil, want an error")
	}
	if !strings.Contains(err.Error(), link+" is a symlink") {
		t.Errorf("error %q does not name the symlink %s", err, link)
	}
}

func TestCheckTrustedPathMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none")
	if err := CheckTrustedPath(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CheckTrustedPath(%s) = %v, want fs.ErrNotExist", missing, err)
	}
}
