package policy

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// DefaultGroupFile is the group database that policies are loaded with
// unless Options.GroupFile names another one.
const DefaultGroupFile = "/etc/group"

// DefaultPasswdFile is the passwd database that LoadForUser reads the
// user's primary group from unless Options.PasswdFile names another one.
const DefaultPasswdFile = "/etc/passwd"

// Group is an entry of the group database.
type Group struct {
	Name    string
	GID     int
	Members []string
}

// GroupDB is a parsed group database.
//
// NOTE: like the passwd lookup, only the file is read, not NSS, so groups
// that exist only in LDAP or SSSD have no effect on the policy.
type GroupDB struct {
	Groups []Group // in file order
}

// ReadGroupFile parses the group file at path (normally /etc/group).
func ReadGroupFile(path string) (*GroupDB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open group database: %w", err)
	}
	defer f.Close()
	return ParseGroups(f)
}

// ParseGroups reads a group-format stream. It skips comments, NIS compat
// entries and malformed lines, as it does for passwd.
func ParseGroups(r io.Reader) (*GroupDB, error) {
	db := &GroupDB{}
	sc := newPasswdScanner(r)
	for sc.Scan() {
		if g, ok := parseGroupLine(sc.Text()); ok {
			db.Groups = append(db.Groups, g)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read group database: %w", err)
	}
	return db, nil
}

func parseGroupLine(line string) (Group, bool) {
	if strings.HasPrefix(strings.TrimLeft(line, " \t"), "#") {
		return Group{}, false
	}
	fields := strings.Split(line, ":")
	if len(fields) != 4 || fields[0] == "" || strings.HasPrefix(fields[0], "+") || strings.HasPrefix(fields[0], "-") {
		return Group{}, false
	}
	gid, err := strconv.Atoi(fields[2])
	if err != nil || gid < 0 {
		return Group{}, false
	}
	g := Group{Name: fields[0], GID: gid}
	for _, m := range strings.Split(fields[3], ",") {
		if m = strings.TrimSpace(m); m != "" {
			g.Members = append(g.Members, m)
		}
	}
	return g, true
}

// GroupsOf returns the names of the groups of user name with primary
// group gid: the first group with that gid, then every group whose member
// list names the user, in file order, each name once. A gid with no
// group entry adds nothing.
func (db *GroupDB) GroupsOf(name string, gid int) []string {
	if db == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(g string) {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	for _, g := range db.Groups {
		if g.GID == gid {
			add(g.Name)
			break
		}
	}
	for _, g := range db.Groups {
		for _, m := range g.Members {
			if m == name {
				add(g.Name)
				break
			}
		}
	}
	return out
}

// Lookup returns the first group named name.
func (db *GroupDB) Lookup(name string) (Group, bool) {
	if db != nil {
		for _, g := range db.Groups {
			if g.Name == name {
				return g, true
			}
		}
	}
	return Group{}, false
}
