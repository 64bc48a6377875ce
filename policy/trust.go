package policy

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// checkTrusted applies sshd's rule for ChrootDirectory to one path: owned
// by root and writable by no other user. A symlink is not trusted either,
// since whoever controls its target controls what it names.
func checkTrusted(path string, uid uint32, mode fs.FileMode) error {
	if mode&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symlink; point the policy at the real path", path)
	}
	if uid != 0 {
		return fmt.Errorf("%s is owned by uid %d, not root; run: chown root %s", path, uid, path)
	}
	if mode.Perm()&0o022 != 0 && mode&fs.ModeSticky != 0 {
		// A sticky, shared folder such as /tmp must stay writable; the
		// policy belongs elsewhere.
		return fmt.Errorf("%s is a shared folder that others may write in (mode 1%03o); move the policy or root filesystem to a root-owned folder such as /etc/jailsh or /srv/jails", path, mode.Perm())
	}
	if mode.Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %04o); run: chmod go-w %s", path, mode.Perm(), path)
	}
	return nil
}

func lstatTrusted(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("stat %s: no owner information", path)
	}
	return checkTrusted(path, st.Uid, fi.Mode())
}

// CheckTrustedPath checks path and every folder above it with the rule of
// checkTrusted, so that nobody but root can swap any part of the path.
func CheckTrustedPath(path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%s is not an absolute path", path)
	}
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		if err := lstatTrusted(p); err != nil {
			return err
		}
		if p == "/" {
			return nil
		}
	}
}
