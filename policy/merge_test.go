package policy

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

// testGroupDB makes alice (primary gid 1000) a member of staff, students
// and lab, and bob a member of staff only.
const testGroupDB = `alice:x:1000:
bob:x:1001:
staff:x:50:alice,bob
students:x:60:alice
lab:x:70:alice
`

// newGroupPolicy parses a main file, groups.d and users.d files, keyed by
// group or user name, as LoadAll would read them from /etc/jailsh.
func newGroupPolicy(t *testing.T, main string, groupFiles, userFiles map[string]string) *Policy {
	t.Helper()
	p := newPolicy(t, main, userFiles)
	p.GroupFiles, p.GroupNames = map[string]*Settings{}, map[string]string{}
	for name, src := range groupFiles {
		path := "/etc/jailsh/groups.d/" + name + ".toml"
		s, err := ParseGroupFile(path, []byte(src))
		if err != nil {
			t.Fatalf("ParseGroupFile %s: %v", name, err)
		}
		p.GroupFiles[name] = s
		p.GroupNames[name] = path
	}
	db, err := ParseGroups(strings.NewReader(testGroupDB))
	if err != nil {
		t.Fatal(err)
	}
	p.GroupDB = db
	return p
}

var bob = User{Name: "bob", UID: 1001, GID: 1001, Home: "/home/bob"}

func TestResolveGroupSettings(t *testing.T) {
	main := `[defaults]
root = "/srv/jails/bookworm"
hostname = "default"

[groups.staff]
hostname = "staff"
network = "host"

[groups.staff.limits]
processes = 100
`
	p := newGroupPolicy(t, main, map[string]string{"staff": "shell = \"/bin/sh\"\n"}, nil)
	j := resolve(t, p, bob)
	if j.Hostname != "staff" || j.Network != NetworkHost || j.Shell != "/bin/sh" {
		t.Errorf("hostname, network, shell = %q, %q, %q, want staff, host, /bin/sh from group staff", j.Hostname, j.Network, j.Shell)
	}
	if !slices.Equal(j.Groups, []string{"staff"}) {
		t.Errorf("Groups = %q, want [staff]", j.Groups)
	}
	wantSources := []string{"/etc/jailsh/jailsh.toml", "/etc/jailsh/groups.d/staff.toml"}
	if !slices.Equal(j.Sources, wantSources) {
		t.Errorf("Sources = %q, want %q", j.Sources, wantSources)
	}
	wantOrigins := map[string]Place{
		"hostname": {File: "/etc/jailsh/jailsh.toml", Line: 6, Key: "groups.staff.hostname"},
		"shell":    {File: "/etc/jailsh/groups.d/staff.toml", Line: 1, Key: "shell"},
		"root":     {File: "/etc/jailsh/jailsh.toml", Line: 2, Key: "defaults.root"},
		"path":     {Key: "path"},
		// The key's own line, not its table's header.
		"limits.processes": {File: "/etc/jailsh/jailsh.toml", Line: 10, Key: "groups.staff.limits.processes"},
	}
	for k, want := range wantOrigins {
		if got := j.Origins[k]; got != want {
			t.Errorf("Origins[%s] = %+v, want %+v", k, got, want)
		}
	}
}

// The fixed order: built-in defaults, [defaults], groups, [users.NAME],
// users.d/NAME.toml. A group's file comes after its table.
func TestResolveGroupPrecedence(t *testing.T) {
	main := `[defaults]
root = "/r"
hostname = "defaults"
shell = "/bin/defaults"
path = "/defaults"

[groups.staff]
hostname = "group-table"
shell = "/bin/group-table"
path = "/group-table"
network = "host"

[users.bob]
hostname = "user-table"
shell = "/bin/user-table"
`
	p := newGroupPolicy(t, main,
		map[string]string{"staff": "hostname = \"group-file\"\npath = \"/group-file\"\n"},
		map[string]string{"bob": "hostname = \"user-file\"\n"})
	j := resolve(t, p, bob)
	got := []string{j.Hostname, j.Shell, j.Path, string(j.Network)}
	want := []string{"user-file", "/bin/user-table", "/group-file", "host"}
	if !slices.Equal(got, want) {
		t.Errorf("hostname, shell, path, network = %q, want %q", got, want)
	}
}

// conflictMain gives alice's groups staff and students different
// hostnames; %s is inserted at the top of the file.
const conflictMain = `%s
[defaults]
root = "/r"

[groups.staff]
hostname = "staff"
`

func TestResolveGroupConflict(t *testing.T) {
	p := newGroupPolicy(t, strings.Replace(conflictMain, "%s", "", 1),
		map[string]string{"students": "# students\nhostname = \"students\"\n"}, nil)
	j, err := p.Resolve(alice)
	if j != nil {
		t.Errorf("Resolve returned %+v with the error, want nil", j)
	}
	pe := policyError(t, err)
	// Both groups are unordered, so the error is placed at the group
	// that applies last (by name) and names the other's place.
	if pe.File != "/etc/jailsh/groups.d/students.toml" || pe.Line != 2 || pe.Key != "hostname" {
		t.Errorf("error at %s:%d key %q, want groups.d/students.toml:2 key hostname", pe.File, pe.Line, pe.Key)
	}
	for _, part := range []string{
		"groups students and staff of user alice conflict on hostname",
		`group students sets "students" here`,
		`group staff sets "staff" at /etc/jailsh/jailsh.toml:6`,
		"group_order",
	} {
		if !strings.Contains(pe.Msg, part) {
			t.Errorf("Msg = %q, want it to contain %q", pe.Msg, part)
		}
	}
	// bob is in staff only, so the conflict is not his.
	if j := resolve(t, p, bob); j.Hostname != "staff" {
		t.Errorf("bob's hostname = %q, want staff", j.Hostname)
	}
}

func TestResolveGroupOrder(t *testing.T) {
	students := map[string]string{"students": "hostname = \"students\"\n"}
	tests := []struct {
		name  string
		order string
		want  string // the hostname, or part of the error after "!"
	}{
		{"students last wins", `group_order = ["staff", "students"]`, "students"},
		{"staff last wins", `group_order = ["students", "staff"]`, "staff"},
		{"unlisted group conflicts", `group_order = ["staff"]`, "!groups students and staff of user alice conflict on hostname"},
		{"other groups listed", `group_order = ["lab", "students"]`, "!groups staff and students of user alice conflict"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newGroupPolicy(t, strings.Replace(conflictMain, "%s", tc.order, 1), students, nil)
			j, err := p.Resolve(alice)
			if want, ok := strings.CutPrefix(tc.want, "!"); ok {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("Resolve error = %v, want one with %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if j.Hostname != tc.want {
				t.Errorf("Hostname = %q, want %q", j.Hostname, tc.want)
			}
		})
	}
}

// Groups that agree, or that set different keys, need no order.
func TestResolveGroupsAgree(t *testing.T) {
	main := `[defaults]
root = "/r"

[groups.staff]
hostname = "same"
env = { A = "1", SHARED = "x" }

[groups.students]
hostname = "same"
env = { B = "2", SHARED = "x" }

[groups.lab]
network = "host"
`
	j := resolve(t, newGroupPolicy(t, main, nil, nil), alice)
	if j.Hostname != "same" || j.Network != NetworkHost {
		t.Errorf("hostname, network = %q, %q, want same, host", j.Hostname, j.Network)
	}
	want := map[string]string{"A": "1", "B": "2", "SHARED": "x"}
	if !maps.Equal(j.Env, want) {
		t.Errorf("Env = %v, want %v", j.Env, want)
	}
	if !slices.Equal(j.Groups, []string{"lab", "staff", "students"}) {
		t.Errorf("Groups = %q, want lab, staff, students (by name)", j.Groups)
	}
}

// The user's own entry decides a value its groups disagree on.
func TestResolveUserDecidesGroupConflict(t *testing.T) {
	tests := []struct {
		name     string
		groups   string
		userFile string
	}{
		{"scalar", "[groups.staff]\nhostname = \"a\"\n[groups.students]\nhostname = \"b\"\n", "hostname = \"mine\"\n"},
		{"env set", "[groups.staff]\nenv = { X = \"a\" }\n[groups.students]\nenv = { X = \"b\" }\n", "env = { X = \"mine\" }\n"},
		{"env removed", "[groups.staff]\nenv = { X = \"a\" }\n[groups.students]\nenv_remove = [\"X\"]\n", "env_remove = [\"X\"]\n"},
		{"mount removed", "[[groups.staff.mounts]]\nsource = \"/a\"\ntarget = \"/m\"\n[[groups.students.mounts]]\nsource = \"/b\"\ntarget = \"/m\"\n", "mounts_remove = [\"/m\"]\n"},
		{"keep_env replaced", "[groups.staff]\nkeep_env = [\"A\"]\n[groups.students]\nkeep_env = [\"B\"]\n", "keep_env = [\"TERM\"]\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			main := "[defaults]\nroot = \"/r\"\n" + tc.groups
			p := newGroupPolicy(t, main, nil, nil)
			if _, err := p.Resolve(alice); err == nil {
				t.Fatal("Resolve without the user's file: error = nil, want a conflict")
			}
			p = newGroupPolicy(t, main, nil, map[string]string{"alice": tc.userFile})
			if _, err := p.Resolve(alice); err != nil {
				t.Errorf("Resolve with the user's file: %v, want no conflict", err)
			}
		})
	}
}

func TestResolveGroupListConflicts(t *testing.T) {
	tests := []struct {
		name   string
		groups string
		want   string
	}{
		{"env values", "[groups.staff]\nenv = { X = \"a\" }\n[groups.students]\nenv = { X = \"b\" }\n", `conflict on env.X: group students sets "b" here, group staff sets "a"`},
		{"env set and removed", "[groups.staff]\nenv = { X = \"a\" }\n[groups.students]\nenv_remove = [\"X\"]\n", "conflict on env.X: group students removes it here"},
		{"mount sources", "[[groups.staff.mounts]]\nsource = \"/a\"\ntarget = \"/m\"\n[[groups.students.mounts]]\nsource = \"/b\"\ntarget = \"/m\"\n", "conflict on the mount on /m: group students mounts /b (ro) here, group staff mounts /a (ro)"},
		{"mount modes", "[[groups.staff.mounts]]\nsource = \"/a\"\n[[groups.students.mounts]]\nsource = \"/a\"\nmode = \"rw\"\n", "mounts /a (rw) here, group staff mounts /a (ro)"},
		{"keep_env lists", "[groups.staff]\nkeep_env = [\"A\"]\n[groups.students]\nkeep_env = [\"B\"]\n", "conflict on keep_env entry"},
		{"booleans", "[groups.staff]\nhome = true\n[groups.students]\nhome = false\n", "group students sets false here, group staff sets true"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newGroupPolicy(t, "[defaults]\nroot = \"/r\"\n"+tc.groups, nil, nil).Resolve(alice)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Resolve error = %v, want one with %q", err, tc.want)
			}
		})
	}
}

// Every conflict is reported, not only the first.
func TestResolveReportsEveryConflict(t *testing.T) {
	main := "[defaults]\nroot = \"/r\"\n[groups.staff]\nhostname = \"a\"\nshell = \"/bin/a\"\n[groups.students]\nhostname = \"b\"\nshell = \"/bin/b\"\n"
	_, err := newGroupPolicy(t, main, nil, nil).Resolve(alice)
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %v (%T) is not a joined error", err, err)
	}
	errs := joined.Unwrap()
	if len(errs) != 2 {
		t.Fatalf("%d errors, want 2 (shell, hostname): %v", len(errs), err)
	}
	// In the order of the keys in settingKeys.
	for i, key := range []string{"groups.students.shell", "groups.students.hostname"} {
		var pe *Error
		if !errors.As(errs[i], &pe) || pe.Key != key {
			t.Errorf("error %d = %v, want one at key %s", i, errs[i], key)
		}
	}
}

func TestResolveRemoveEntries(t *testing.T) {
	main := `[defaults]
root = "/r"
keep_env = ["TERM", "LANG", "TZ"]
env = { EDITOR = "vi", PAGER = "less" }

[[defaults.mounts]]
source = "/srv/a"

[[defaults.mounts]]
source = "/srv/b"

[groups.staff]
keep_env_remove = ["TZ"]

[groups.students]
keep_env_remove = ["LANG"]
env_remove = ["PAGER"]
`
	user := "mounts_remove = [\"/srv/a\"]\nenv_remove = [\"EDITOR\"]\n[[mounts]]\nsource = \"/srv/c\"\n"
	j := resolve(t, newGroupPolicy(t, main, nil, map[string]string{"alice": user}), alice)
	if !slices.Equal(j.KeepEnv, []string{"TERM"}) {
		t.Errorf("KeepEnv = %q, want [TERM]: two groups that remove different entries both apply", j.KeepEnv)
	}
	if len(j.Env) != 0 {
		t.Errorf("Env = %v, want empty", j.Env)
	}
	want := []Mount{{Source: "/srv/b", Target: "/srv/b", Mode: ReadOnly}, {Source: "/srv/c", Target: "/srv/c", Mode: ReadOnly}}
	if !slices.Equal(j.Mounts, want) {
		t.Errorf("Mounts = %+v, want %+v", j.Mounts, want)
	}
	if _, ok := j.Origins[MountKey("/srv/a")]; ok {
		t.Error("Origins keeps the removed mount /srv/a")
	}
}

// Removing what no layer set is no error, so a group file can be written
// before the value it removes.
func TestResolveRemoveMissing(t *testing.T) {
	j := resolve(t, newPolicy(t, "[defaults]\nroot = \"/r\"\n[users.alice]\nenv_remove = [\"NOPE\"]\nmounts_remove = [\"/nope\"]\nkeep_env_remove = [\"NOPE\"]\n", nil), alice)
	if len(j.Env) != 0 || len(j.Mounts) != 0 || !slices.Equal(j.KeepEnv, DefaultKeepEnv) {
		t.Errorf("env, mounts, keep_env = %v, %v, %q, want unchanged defaults", j.Env, j.Mounts, j.KeepEnv)
	}
}

// Groups that add mounts add them in the order groups apply, and a mount
// that would cover an earlier one is refused.
func TestResolveGroupMountOrder(t *testing.T) {
	main := `[defaults]
root = "/r"

[[groups.students.mounts]]
source = "/srv/students"
target = "/srv/data/students"

[[groups.staff.mounts]]
source = "/srv/staff"
target = "/srv/staff"
`
	j := resolve(t, newGroupPolicy(t, main, nil, nil), alice)
	if len(j.Mounts) != 2 || j.Mounts[0].Target != "/srv/staff" || j.Mounts[1].Target != "/srv/data/students" {
		t.Errorf("Mounts = %+v, want staff's, then students' (groups by name)", j.Mounts)
	}

	covering := main + "\n[users.alice]\nmounts = [{ source = \"/srv/all\", target = \"/srv/data\" }]\n"
	_, err := newGroupPolicy(t, covering, nil, nil).Resolve(alice)
	pe := policyError(t, err)
	if pe.Line != 13 || pe.Key != "users.alice.mounts" {
		t.Errorf("error at line %d key %q, want line 13 key users.alice.mounts", pe.Line, pe.Key)
	}
	if !strings.Contains(pe.Msg, "the mount on /srv/data covers the mount on /srv/data/students from /etc/jailsh/jailsh.toml:4") {
		t.Errorf("Msg = %q, want it to name both mounts", pe.Msg)
	}

	// Removing the inner mount and adding it again moves it after.
	fixed := main + "\n[users.alice]\nmounts_remove = [\"/srv/data/students\"]\nmounts = [{ source = \"/srv/all\", target = \"/srv/data\" }, { source = \"/srv/students\", target = \"/srv/data/students\" }]\n"
	j = resolve(t, newGroupPolicy(t, fixed, nil, nil), alice)
	var targets []string
	for _, m := range j.Mounts {
		targets = append(targets, string(m.Target))
	}
	if want := []string{"/srv/staff", "/srv/data", "/srv/data/students"}; !slices.Equal(targets, want) {
		t.Errorf("targets = %q, want %q", targets, want)
	}
}

// A group with settings gives its members an entry; membership in a group
// without settings does not.
func TestResolveUnlistedGroupMember(t *testing.T) {
	p := newGroupPolicy(t, "[defaults]\nroot = \"/r\"\n[groups.students]\n", nil, nil)
	if _, err := p.Resolve(alice); err != nil {
		t.Errorf("alice, a member of students: %v, want jailed", err)
	}
	_, err := p.Resolve(bob)
	if err == nil {
		t.Fatal("bob, in no group with settings: error = nil, want a refusal")
	}
	for _, part := range []string{"user bob has no entry", "[groups.NAME]", `unlisted = "defaults"`} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
	p = newGroupPolicy(t, "[defaults]\nroot = \"/r\"\n", map[string]string{"bob": ""}, nil)
	if _, err := p.Resolve(bob); err != nil {
		t.Errorf("bob, whose primary group has an empty groups.d file: %v, want jailed", err)
	}
}

func TestResolveGroupsWithoutDatabase(t *testing.T) {
	p := newPolicy(t, "[defaults]\nroot = \"/r\"\n[groups.staff]\n", nil)
	_, err := p.Resolve(alice)
	if err == nil || !strings.Contains(err.Error(), "no group database was read") {
		t.Errorf("Resolve without a group database: %v, want an error that says so", err)
	}
}

// The merge must not write into the parsed layers, which serve every
// user that jailctl check resolves.
func TestResolveGroupsLeavePolicyUnchanged(t *testing.T) {
	main := "[defaults]\nroot = \"/r\"\nenv = { A = \"1\" }\n[groups.staff]\nenv = { A = \"2\" }\nenv_remove = []\n[users.alice]\nenv_remove = [\"A\"]\n"
	p := newGroupPolicy(t, main, nil, nil)
	if j := resolve(t, p, alice); len(j.Env) != 0 {
		t.Errorf("alice's Env = %v, want empty", j.Env)
	}
	if j := resolve(t, newGroupPolicy(t, main+"[users.bob]\n", nil, nil), bob); j.Env["A"] != "2" {
		t.Errorf("bob's A = %q, want 2 from staff", j.Env["A"])
	}
	if p.Main.Defaults.Env["A"] != "1" || p.Main.Groups["staff"].Env["A"] != "2" {
		t.Errorf("parsed env changed: defaults %v, staff %v", p.Main.Defaults.Env, p.Main.Groups["staff"].Env)
	}
}

func TestParseRemoveKeys(t *testing.T) {
	tests := []parseErrorCase{
		{"keep_env and its removal", "[defaults]\nkeep_env = [\"TERM\"]\nkeep_env_remove = [\"LANG\"]\n", 3, "defaults.keep_env_remove", "keep_env replaces the whole list"},
		{"invalid removed pattern", "[groups.staff]\nkeep_env_remove = [\"*\"]\n", 2, "groups.staff.keep_env_remove", `invalid keep_env entry "*"`},
		{"invalid removed name", "[groups.staff]\nenv_remove = [\"A-B\"]\n", 2, "groups.staff.env_remove", `invalid environment variable name "A-B"`},
		{"relative removed mount", "[users.alice]\nmounts_remove = [\"srv\"]\n", 2, "users.alice.mounts_remove", "must be absolute"},
		{"removed mount not a string", "[defaults]\nmounts_remove = [1]\n", 2, "defaults.mounts_remove", "invalid type: want a string"},
		{"group_order not an array", "group_order = \"staff\"\n", 1, "group_order", "incompatible types"},
		{"group_order invalid name", "group_order = [\"a b\"]\n", 1, "group_order", `invalid group_order entry: invalid group name "a b"`},
		{"group_order twice", "group_order = [\"staff\", \"staff\"]\n", 1, "group_order", "group staff is listed twice"},
		{"invalid group name", "[groups.\"a/b\"]\n", 1, "groups.a/b", `invalid group name "a/b"`},
		{"groups not a table", "groups = 5\n", 1, "groups", "want a table, like [groups.staff]"},
		{"group env not a table", "[groups.staff]\nenv = 5\n", 2, "groups.staff.env", "want a table"},
		{"group unknown key", "[groups.staff]\nhostnme = \"x\"\n", 2, "groups.staff.hostnme", "unknown key"},
		{"group mount in proc", "[[groups.staff.mounts]]\nsource = \"/a\"\ntarget = \"/proc/%u\"\n", 1, "groups.staff.mounts", `invalid mount target "/proc/%u"`},
		{"unknown placeholder", "[defaults]\nroot = \"/srv/%n\"\n", 2, "defaults.root", `unknown placeholder "%n"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFile("jailsh.toml", []byte(tc.src))
			if f != nil {
				t.Errorf("ParseFile returned %+v with the error, want nil", f)
			}
			checkParseError(t, "jailsh.toml", tc, err)
		})
	}
}
