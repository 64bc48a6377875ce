package policy

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

const testGroup = `# Managed by configuration management.
root:x:0:
alice:x:1000:
staff:x:50:alice,bob
students:x:60: bob , alice
+nisgroup:x:70:alice
-blocked:x:71:alice
badgid:x:staff:alice
short:x:72
toolong:x:73:alice:extra
first.last:x:1002:
empty:x:80:
dup:x:50:alice
`

func TestParseGroups(t *testing.T) {
	db, err := ParseGroups(strings.NewReader(testGroup))
	if err != nil {
		t.Fatalf("ParseGroups: %v", err)
	}
	var names []string
	for _, g := range db.Groups {
		names = append(names, g.Name)
	}
	want := []string{"root", "alice", "staff", "students", "first.last", "empty", "dup"}
	if !slices.Equal(names, want) {
		t.Errorf("groups = %q, want %q (comments, NIS entries and malformed lines skipped)", names, want)
	}
	g, ok := db.Lookup("students")
	if !ok {
		t.Fatal("Lookup(students) found nothing")
	}
	if g.GID != 60 || !slices.Equal(g.Members, []string{"bob", "alice"}) {
		t.Errorf("students = %+v, want gid 60 and members bob, alice", g)
	}
	if g, _ := db.Lookup("empty"); len(g.Members) != 0 {
		t.Errorf("empty's members = %q, want none", g.Members)
	}
	if _, ok := db.Lookup("nisgroup"); ok {
		t.Error("Lookup found the NIS entry +nisgroup")
	}
}

func TestGroupsOf(t *testing.T) {
	db, err := ParseGroups(strings.NewReader(testGroup))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		user string
		gid  int
		want []string
	}{
		{"primary first, then members", "alice", 1000, []string{"alice", "staff", "students", "dup"}},
		{"primary also listed as member", "alice", 50, []string{"staff", "students", "dup"}},
		{"member list with blanks", "bob", 100, []string{"staff", "students"}},
		{"primary gid without an entry", "carol", 4242, nil},
		{"dotted group name", "first.last", 1002, []string{"first.last"}},
		{"NIS lines grant nothing", "alice", -1, []string{"staff", "students", "dup"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := db.GroupsOf(tc.user, tc.gid); !slices.Equal(got, tc.want) {
				t.Errorf("GroupsOf(%s, %d) = %q, want %q", tc.user, tc.gid, got, tc.want)
			}
		})
	}
	var none *GroupDB
	if got := none.GroupsOf("alice", 1000); got != nil {
		t.Errorf("nil GroupDB: GroupsOf = %q, want nil", got)
	}
}

func TestParseGroupsReadError(t *testing.T) {
	errDisk := errors.New("disk failed")
	if _, err := ParseGroups(iotest.ErrReader(errDisk)); !errors.Is(err, errDisk) {
		t.Errorf("ParseGroups error = %v, want it to wrap %v", err, errDisk)
	}
	if _, err := ParseGroups(strings.NewReader(strings.Repeat("x", maxPasswdLine+2))); err == nil {
		t.Error("ParseGroups of a line longer than the limit: error = nil, want one")
	}
}

func TestReadGroupFileMissing(t *testing.T) {
	_, err := ReadGroupFile(filepath.Join(t.TempDir(), "group"))
	if err == nil || !strings.Contains(err.Error(), "open group database") {
		t.Errorf("ReadGroupFile(missing) error = %v, want one that names the group database", err)
	}
}
