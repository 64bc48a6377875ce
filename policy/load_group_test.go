package policy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const loadPasswd = `alice:x:1000:1000::/home/alice:/usr/local/bin/jailsh
bob:x:1001:1001::/home/bob:/usr/local/bin/jailsh
`

// groupOptions writes a passwd and a group database from testGroupDB and
// returns options that read them.
func groupOptions(t *testing.T) Options {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"passwd": loadPasswd, "group": testGroupDB})
	return Options{PasswdFile: filepath.Join(dir, "passwd"), GroupFile: filepath.Join(dir, "group")}
}

func TestLoadAllGroupFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"jailsh.toml":              "[defaults]\nroot = \"/r\"\n[groups.lab]\nnetwork = \"host\"\n",
		"groups.d/staff.toml":      "hostname = \"staff\"\n",
		"groups.d/first.last.toml": "",
		"groups.d/README":          "not a policy file",
	})
	p, err := LoadAll(dir, groupOptions(t))
	if err != nil {
		t.Fatalf("LoadAll: %v", err)
	}
	if want := []string{"first.last", "lab", "staff"}; !slices.Equal(p.Groups(), want) {
		t.Errorf("Groups() = %q, want %q", p.Groups(), want)
	}
	if p.GroupDB == nil {
		t.Fatal("GroupDB = nil, want the group database read")
	}
	if got, want := p.GroupNames["staff"], filepath.Join(dir, "groups.d", "staff.toml"); got != want {
		t.Errorf("GroupNames[staff] = %q, want %q", got, want)
	}
	if got := p.GroupPlace("lab"); got.File != filepath.Join(dir, "jailsh.toml") || got.Line != 3 {
		t.Errorf("GroupPlace(lab) = %+v, want jailsh.toml:3", got)
	}
	j, err := p.Resolve(bob)
	if err != nil {
		t.Fatalf("Resolve(bob): %v", err)
	}
	if j.Hostname != "staff" {
		t.Errorf("bob's hostname = %q, want staff", j.Hostname)
	}
}

// LoadAll reports every broken file at once, so that one run of jailctl
// check lists everything to fix, and returns no policy.
func TestLoadAllReportsEveryFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"jailsh.toml":           "[defaults]\nroot = \"/r\"\n",
		"users.d/alice.toml":    "hostnme = \"x\"\n",
		"users.d/bad name.toml": "",
		"groups.d/staff.toml":   "network = \"bridge\"\n",
		"groups.d/a$b.toml":     "",
	})
	p, err := LoadAll(dir, groupOptions(t))
	if p != nil {
		t.Error("LoadAll returned a policy with the errors, want nil")
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %v (%T) is not a joined error", err, err)
	}
	var got []string
	for _, e := range joined.Unwrap() {
		got = append(got, e.Error())
	}
	for _, want := range []string{
		filepath.Join(dir, "users.d/alice.toml") + `:1: key "hostnme": unknown key`,
		filepath.Join(dir, "users.d/bad name.toml") + `: invalid user name "bad name"`,
		filepath.Join(dir, "groups.d/staff.toml") + `:1: key "network": invalid network "bridge"`,
		filepath.Join(dir, "groups.d/a$b.toml") + `: invalid group name "a$b"`,
	} {
		if !slices.ContainsFunc(got, func(e string) bool { return strings.HasPrefix(e, want) }) {
			t.Errorf("errors %q lack %q", got, want)
		}
	}
	if len(got) != 4 {
		t.Errorf("%d errors, want 4: %q", len(got), got)
	}
}

// A login reads the files of the user's own groups only, so a broken file
// of another group does not lock the user out.
func TestLoadForUserGroupFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"jailsh.toml":         "[defaults]\nroot = \"/r\"\n",
		"groups.d/alice.toml": "shell = \"/bin/primary\"\n",
		"groups.d/staff.toml": "hostname = \"staff\"\n",
		"groups.d/other.toml": "this is not TOML",
		"groups.d/bob.toml":   "this is not TOML either",
	})
	opts := groupOptions(t)
	p, err := LoadForUser(dir, "alice", opts)
	if err != nil {
		t.Fatalf("LoadForUser(alice): %v", err)
	}
	if got := slices.Sorted(mapsKeys(p.GroupFiles)); !slices.Equal(got, []string{"alice", "staff"}) {
		t.Errorf("group files read = %q, want alice (primary) and staff", got)
	}
	j, err := p.Resolve(alice)
	if err != nil {
		t.Fatalf("Resolve(alice): %v", err)
	}
	if j.Shell != "/bin/primary" || j.Hostname != "staff" {
		t.Errorf("shell, hostname = %q, %q, want /bin/primary, staff", j.Shell, j.Hostname)
	}
	if _, err := p.Resolve(bob); err == nil || !strings.Contains(err.Error(), "policy was loaded for user alice") {
		t.Errorf("Resolve(bob) on alice's policy: %v, want an error", err)
	}

	// bob's primary group has a broken file.
	if _, err := LoadForUser(dir, "bob", opts); err == nil || !strings.Contains(err.Error(), "bob.toml") {
		t.Errorf("LoadForUser(bob): %v, want the error of groups.d/bob.toml", err)
	}
}

// A user whose duplicate passwd entries disagree on the primary group must
// not be resolved with a group file that was never read.
func TestLoadForUserPrimaryGroupMismatch(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"jailsh.toml": "[defaults]\nroot = \"/r\"\n", "groups.d/bob.toml": "hostname = \"b\"\n"})
	p, err := LoadForUser(dir, "alice", groupOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	other := alice
	other.GID = 1001 // bob's group, which the load did not look at
	if _, err := p.Resolve(other); err == nil || !strings.Contains(err.Error(), "group bob of user alice was not read") {
		t.Errorf("Resolve with another primary group: %v, want an error", err)
	}
}

func TestLoadGroupDatabaseMissing(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"jailsh.toml": "[defaults]\nroot = \"/r\"\n[groups.staff]\n"})
	opts := Options{GroupFile: filepath.Join(dir, "no-group"), PasswdFile: filepath.Join(dir, "no-passwd")}
	for name, load := range map[string]func() (*Policy, error){
		"LoadAll":     func() (*Policy, error) { return LoadAll(dir, opts) },
		"LoadForUser": func() (*Policy, error) { return LoadForUser(dir, "alice", opts) },
		"LoadFile":    func() (*Policy, error) { return LoadFile(filepath.Join(dir, "jailsh.toml"), opts) },
	} {
		t.Run(name, func(t *testing.T) {
			p, err := load()
			if err == nil {
				t.Fatalf("%s = %+v, want an error", name, p)
			}
			if !strings.Contains(err.Error(), "group database cannot be read") {
				t.Errorf("error %q does not name the group database", err)
			}
			// jailsh reports fs.ErrNotExist as a missing policy.
			if errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %q wraps fs.ErrNotExist", err)
			}
		})
	}
}

// A policy without group settings does not need the group database.
func TestLoadWithoutGroupsSkipsDatabase(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"jailsh.toml": "[defaults]\nroot = \"/r\"\n[users.alice]\n"})
	opts := Options{GroupFile: filepath.Join(dir, "no-group")}
	p, err := LoadForUser(dir, "alice", opts)
	if err != nil {
		t.Fatalf("LoadForUser: %v", err)
	}
	if _, err := p.Resolve(alice); err != nil {
		t.Errorf("Resolve: %v", err)
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Each bad input gets an error that names the file, and no policy.
func TestLoadBadInput(t *testing.T) {
	big := strings.Repeat("# padding\n", 10*1024*1024) // 100 MiB
	tests := []struct {
		name  string
		file  string // relative to the folder
		text  string
		inAll bool // the error comes from LoadAll only, not from alice's login
		want  string
	}{
		{"binary main file", "jailsh.toml", "\x7fELF\x02\x01\x01\x00\x00\x00", false, "TOML files cannot contain control characters"},
		{"100 MB main file", "jailsh.toml", big, false, "file is 104857600 bytes, larger than the limit of 1048576"},
		{"100 MB user file", "users.d/alice.toml", big, false, "file is 104857600 bytes"},
		{"100 MB group file", "groups.d/staff.toml", big, false, "file is 104857600 bytes"},
		{"binary group file", "groups.d/staff.toml", "\x00\x01\x02", false, "cannot contain NULL bytes"},
		{"duplicate key in group file", "groups.d/staff.toml", "hostname = \"a\"\nhostname = \"b\"\n", false, "has already been defined"},
		{"file for a group alice is not in", "groups.d/bob.toml", "[[[", true, "bob.toml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"jailsh.toml": "[defaults]\nroot = \"/r\"\n[users.alice]\n"}
			files[tc.file] = tc.text
			writeFiles(t, dir, files)
			path := filepath.Join(dir, tc.file)
			opts := groupOptions(t)
			p, err := LoadAll(dir, opts)
			if p != nil {
				t.Error("LoadAll returned a policy with the error, want nil")
			}
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadAll error = %.300v, want one naming %s and %q", err, path, tc.want)
			}
			p, err = LoadForUser(dir, "alice", opts)
			if tc.inAll {
				if err != nil {
					t.Errorf("LoadForUser(alice): %v, want no error from another group's file", err)
				}
				return
			}
			if p != nil {
				t.Error("LoadForUser returned a policy with the error, want nil")
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadForUser error = %.300v, want one with %q", err, tc.want)
			}
		})
	}
}

// An empty main file is a valid policy with no entries: every user is
// refused, with the fix in the message.
func TestLoadEmptyMainFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"jailsh.toml": ""})
	p, err := LoadForUser(dir, "alice", groupOptions(t))
	if err != nil {
		t.Fatalf("LoadForUser: %v", err)
	}
	if _, err := p.Resolve(alice); err == nil || !strings.Contains(err.Error(), "user alice has no entry in the policy") {
		t.Errorf("Resolve: %v, want a refusal", err)
	}
}

// trustedTempDir returns a new folder that CheckTrustedPath accepts, or
// skips the test where none can be made (without root).
func trustedTempDir(t *testing.T) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("a root-owned policy folder needs root")
	}
	dir, err := os.MkdirTemp("/var/lib", "jailsh-policy-test-")
	if err != nil {
		t.Skipf("no root-owned folder for the test: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if bad := untrustedAncestor(dir); bad != "" {
		t.Skipf("%s is not trusted, so no trusted folder can be made", bad)
	}
	return dir
}

func TestLoadTrustedGroupFiles(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"group-writable groups.d", func(t *testing.T, dir string) {
			if err := os.Chmod(filepath.Join(dir, "groups.d"), 0o775); err != nil {
				t.Fatal(err)
			}
		}, "untrusted policy folder: " + "%s/groups.d is writable by group or others (mode 0775); run: chmod go-w %s/groups.d"},
		{"group-writable group file", func(t *testing.T, dir string) {
			if err := os.Chmod(filepath.Join(dir, "groups.d", "alice.toml"), 0o664); err != nil {
				t.Fatal(err)
			}
		}, "untrusted policy file: %s/groups.d/alice.toml is writable by group or others (mode 0664)"},
		{"symlinked group file", func(t *testing.T, dir string) {
			link := filepath.Join(dir, "groups.d", "alice.toml")
			if err := os.Rename(link, filepath.Join(dir, "real.toml")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(dir, "real.toml"), link); err != nil {
				t.Fatal(err)
			}
		}, "untrusted policy file: %s/groups.d/alice.toml is a symlink"},
		{"group file owned by a user", func(t *testing.T, dir string) {
			if err := os.Chown(filepath.Join(dir, "groups.d", "alice.toml"), 1000, 1000); err != nil {
				t.Fatal(err)
			}
		}, "%s/groups.d/alice.toml is owned by uid 1000, not root"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := trustedTempDir(t)
			writeFiles(t, dir, map[string]string{
				"jailsh.toml":         "[defaults]\nroot = \"/r\"\n[users.bob]\n",
				"groups.d/alice.toml": "hostname = \"a\"\n",
			})
			opts := groupOptions(t)
			opts.Trusted = true
			if _, err := LoadForUser(dir, "alice", opts); err != nil {
				t.Fatalf("LoadForUser before the change: %v", err)
			}
			tc.setup(t, dir)
			want := strings.ReplaceAll(tc.want, "%s", dir)
			for name, load := range map[string]func() (*Policy, error){
				"LoadAll":     func() (*Policy, error) { return LoadAll(dir, opts) },
				"LoadForUser": func() (*Policy, error) { return LoadForUser(dir, "alice", opts) },
			} {
				p, err := load()
				if p != nil || err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s: policy %v, error %v, want an error with %q", name, p != nil, err, want)
				}
			}
		})
	}
}

// An untrusted groups.d folder refuses every login, as an untrusted
// users.d does, even of users in no group with a file.
func TestLoadForUserUntrustedGroupsDir(t *testing.T) {
	dir := trustedTempDir(t)
	writeFiles(t, dir, map[string]string{"jailsh.toml": "[defaults]\nroot = \"/r\"\n[users.bob]\n", "groups.d/": ""})
	if err := os.Chmod(filepath.Join(dir, "groups.d"), 0o777); err != nil {
		t.Fatal(err)
	}
	opts := groupOptions(t)
	opts.Trusted = true
	_, err := LoadForUser(dir, "bob", opts)
	if err == nil || !strings.Contains(err.Error(), "untrusted policy folder") {
		t.Errorf("LoadForUser(bob) with a world-writable groups.d: %v, want an error", err)
	}
}

// LoadAllReport returns the policy without its broken files, and refuses
// to resolve the users those files may concern.
func TestLoadAllReportSkipsBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"jailsh.toml":         "[defaults]\nroot = \"/r\"\n[users.alice]\n[users.bob]\n",
		"users.d/alice.toml":  "hostnme = \"x\"\n",
		"groups.d/staff.toml": "[[[",
		"groups.d/lab.toml":   "hostname = \"lab\"\n",
	})
	p, errs := LoadAllReport(dir, groupOptions(t))
	if p == nil {
		t.Fatal("LoadAllReport returned no policy for broken side files")
	}
	if len(errs) != 2 {
		t.Errorf("%d errors, want 2 (alice.toml, staff.toml): %v", len(errs), errs)
	}
	// alice's own file is broken; bob is in staff, whose file is broken.
	for _, u := range []User{alice, bob} {
		_, err := p.Resolve(u)
		if !errors.Is(err, ErrBrokenFile) {
			t.Errorf("Resolve(%s) = %v, want ErrBrokenFile", u.Name, err)
		}
	}
	carol := User{Name: "carol", UID: 1002, GID: 1002}
	if _, err := p.Resolve(carol); errors.Is(err, ErrBrokenFile) {
		t.Errorf("Resolve(carol), in no broken file: %v", err)
	}

	// A broken main file leaves no policy.
	writeFiles(t, dir, map[string]string{"jailsh.toml": "[defaults\n"})
	if p, errs := LoadAllReport(dir, groupOptions(t)); p != nil || len(errs) != 1 {
		t.Errorf("LoadAllReport with a broken main file = %v, %v, want no policy and one error", p != nil, errs)
	}
}

// The annotated examples in contrib/ must stay valid policies, and jail
// a member of both example groups with group_order deciding.
func TestContribExamples(t *testing.T) {
	dir := filepath.Join("..", "contrib")
	main, err := os.ReadFile(filepath.Join(dir, "jailsh.toml"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFile("contrib/jailsh.toml", main)
	if err != nil {
		t.Fatalf("contrib/jailsh.toml: %v", err)
	}
	p := &Policy{MainName: "contrib/jailsh.toml", Main: f,
		UserFiles: map[string]*Settings{}, UserNames: map[string]string{},
		GroupFiles: map[string]*Settings{}, GroupNames: map[string]string{}}

	for _, sub := range []struct {
		folder string
		parse  func(string, []byte) (*Settings, error)
		files  map[string]*Settings
	}{{"users.d", ParseUserFile, p.UserFiles}, {"groups.d", ParseGroupFile, p.GroupFiles}} {
		paths, _ := filepath.Glob(filepath.Join(dir, sub.folder, "*.toml"))
		if len(paths) == 0 {
			t.Errorf("no example files in contrib/%s", sub.folder)
		}
		for _, path := range paths {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := sub.parse(path, data)
			if err != nil {
				t.Errorf("%s: %v", path, err)
				continue
			}
			sub.files[strings.TrimSuffix(filepath.Base(path), ".toml")] = s
		}
	}

	db, err := ParseGroups(strings.NewReader("students:x:60:dana\ndevelopers:x:61:dana\n"))
	if err != nil {
		t.Fatal(err)
	}
	p.GroupDB = db
	dana := User{Name: "dana", UID: 1010, GID: 1010, Home: "/home/dana"}
	j, err := p.Resolve(dana)
	if err != nil {
		t.Fatalf("Resolve(dana), in students and developers: %v", err)
	}
	if j.Hostname != "dev" || j.Network != NetworkHost {
		t.Errorf("dana's hostname, network = %q, %q, want dev, host from developers, listed last in group_order", j.Hostname, j.Network)
	}
	for _, u := range []User{alice, bob, {Name: "carol", UID: 1002, GID: 1002, Home: "/home/carol"}} {
		if _, err := p.Resolve(u); err != nil {
			t.Errorf("Resolve(%s): %v", u.Name, err)
		}
	}
}
