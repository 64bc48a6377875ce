package policy

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// User is an account from the passwd database.
type User struct {
	Name  string
	UID   int
	GID   int
	Home  string
	Shell string
}

// LookupUID finds uid in the passwd file at path (normally /etc/passwd).
//
// NOTE: only the passwd file is read, not NSS, so accounts that live only
// in LDAP or SSSD are not found and their logins are refused.
func LookupUID(path string, uid int) (*User, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open passwd database: %w", err)
	}
	defer f.Close()
	return FindUID(f, uid)
}

// maxPasswdLine is the longest passwd line that FindUID and FindName read.
// A longer line fails the lookup with bufio.ErrTooLong.
const maxPasswdLine = 1 << 20

func newPasswdScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	// One more byte than maxPasswdLine for the newline.
	sc.Buffer(make([]byte, 0, 64*1024), maxPasswdLine+1)
	return sc
}

// FindUID returns the first entry for uid in a passwd-format stream.
func FindUID(r io.Reader, uid int) (*User, error) {
	sc := newPasswdScanner(r)
	for sc.Scan() {
		u, ok := parsePasswdLine(sc.Text())
		if ok && u.UID == uid {
			return u, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read passwd database: %w", err)
	}
	return nil, fmt.Errorf("uid %d has no passwd entry", uid)
}

// FindName returns the first entry named name in a passwd-format stream.
func FindName(r io.Reader, name string) (*User, error) {
	sc := newPasswdScanner(r)
	for sc.Scan() {
		u, ok := parsePasswdLine(sc.Text())
		if ok && u.Name == name {
			return u, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read passwd database: %w", err)
	}
	return nil, fmt.Errorf("user %q has no passwd entry", name)
}

// LookupName finds the user name in the passwd file at path.
func LookupName(path, name string) (*User, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open passwd database: %w", err)
	}
	defer f.Close()
	return FindName(f, name)
}

// parsePasswdLine skips comment lines, whose first non-blank character is
// '#', and NIS compat entries, which start with '+' or '-'.
func parsePasswdLine(line string) (*User, bool) {
	if strings.HasPrefix(strings.TrimLeft(line, " \t"), "#") {
		return nil, false
	}
	fields := strings.Split(line, ":")
	if len(fields) != 7 || fields[0] == "" || strings.HasPrefix(fields[0], "+") || strings.HasPrefix(fields[0], "-") {
		return nil, false
	}
	uid, err1 := strconv.Atoi(fields[2])
	gid, err2 := strconv.Atoi(fields[3])
	if err1 != nil || err2 != nil || uid < 0 || gid < 0 {
		return nil, false
	}
	return &User{Name: fields[0], UID: uid, GID: gid, Home: fields[5], Shell: fields[6]}, true
}
