package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/jailsh/jailsh/policy"
)

// identity is an account as the kernel's permission checks see it: a uid,
// and the ids of its primary and supplementary groups.
type identity struct {
	uid  int
	gids map[int]bool
}

// newIdentity returns the identity of u, with the groups db gives it.
func newIdentity(u *policy.User, db *policy.GroupDB) identity {
	id := identity{uid: u.UID, gids: map[int]bool{u.GID: true}}
	for _, name := range db.GroupsOf(u.Name, u.GID) {
		if g, ok := db.Lookup(name); ok {
			id.gids[g.GID] = true
		}
	}
	return id
}

// Access bits, as in a mode's "other" triple.
const (
	accessRead   fs.FileMode = 4
	accessSearch fs.FileMode = 1
)

// permits reports whether id gets the access bits want on a file with
// owner uid, group gid and permissions perm, by the owner, group and other
// classes that the kernel applies. POSIX ACLs are not read.
func (id identity) permits(uid, gid int, perm, want fs.FileMode) bool {
	switch {
	case id.uid == uid:
		return (perm>>6)&want == want
	case id.gids[gid]:
		return (perm>>3)&want == want
	default:
		return perm&want == want
	}
}

// reachProblem returns why id cannot search every folder above path and
// then read path (read) or search it (a folder to enter), or "" when it
// can. jailsh opens the policy and the root filesystem as the user, so a
// path that root reads may still refuse every login. Symlinks are followed
// first, so that the folders checked are the ones the kernel walks. A
// missing or relative path gives "": other checks report it.
func reachProblem(id identity, path string, read bool) string {
	path, err := filepath.EvalSymlinks(path)
	if err != nil || !filepath.IsAbs(path) {
		return ""
	}
	var chain []string
	for p := path; ; p = filepath.Dir(p) {
		chain = append([]string{p}, chain...)
		if p == "/" {
			break
		}
	}
	for i, p := range chain {
		fi, err := os.Stat(p)
		if err != nil {
			return ""
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return ""
		}
		want, verb, fix := accessSearch, "search", "a+x"
		if i == len(chain)-1 && read {
			want, verb, fix = accessRead, "read", "a+r"
		}
		if !id.permits(int(st.Uid), int(st.Gid), fi.Mode().Perm(), want) {
			return fmt.Sprintf("cannot %s %s (mode %04o, owner %d:%d), so every login is refused; run: chmod %s %s",
				verb, p, fi.Mode().Perm(), st.Uid, st.Gid, fix, p)
		}
	}
	return ""
}
