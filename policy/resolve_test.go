package policy

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

var alice = User{Name: "alice", UID: 1000, GID: 1000, Home: "/home/alice", Shell: "/usr/local/bin/jailsh"}

// newPolicy parses a main file and users.d files, keyed by user name, as
// LoadAll would read them from /etc/jailsh.
func newPolicy(t *testing.T, main string, userFiles map[string]string) *Policy {
	t.Helper()
	f, err := ParseFile("/etc/jailsh/jailsh.toml", []byte(main))
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	p := &Policy{MainName: "/etc/jailsh/jailsh.toml", Main: f, UserFiles: map[string]*Settings{}, UserNames: map[string]string{}}
	for name, src := range userFiles {
		path := "/etc/jailsh/users.d/" + name + ".toml"
		s, err := ParseUserFile(path, []byte(src))
		if err != nil {
			t.Fatalf("ParseUserFile %s: %v", name, err)
		}
		p.UserFiles[name] = s
		p.UserNames[name] = path
	}
	return p
}

func resolve(t *testing.T, p *Policy, u User) *Jail {
	t.Helper()
	j, err := p.Resolve(u)
	if err != nil {
		t.Fatalf("Resolve(%s): %v", u.Name, err)
	}
	return j
}

func TestResolveDefaultsFilledIn(t *testing.T) {
	p := newPolicy(t, "[defaults]\nroot = \"/srv/jails/bookworm\"\n\n[users.alice]\n", nil)
	j := resolve(t, p, alice)

	if j.User != alice {
		t.Errorf("User = %+v, want %+v", j.User, alice)
	}
	if j.Root != "/srv/jails/bookworm" {
		t.Errorf("Root = %q, want /srv/jails/bookworm", j.Root)
	}
	if j.Shell != "/bin/bash" {
		t.Errorf("Shell = %q, want /bin/bash", j.Shell)
	}
	if j.Network != NetworkNone {
		t.Errorf("Network = %q, want %q", j.Network, NetworkNone)
	}
	if !j.RootReadOnly {
		t.Error("RootReadOnly = false, want true")
	}
	if !j.Home {
		t.Error("Home = false, want true")
	}
	if j.Hostname != "jail" {
		t.Errorf("Hostname = %q, want jail", j.Hostname)
	}
	if j.Path != DefaultPath {
		t.Errorf("Path = %q, want %q", j.Path, DefaultPath)
	}
	if !slices.Equal(j.KeepEnv, DefaultKeepEnv) {
		t.Errorf("KeepEnv = %q, want %q", j.KeepEnv, DefaultKeepEnv)
	}
	if j.Env == nil || len(j.Env) != 0 {
		t.Errorf("Env = %#v, want an empty map", j.Env)
	}
	if len(j.Mounts) != 0 {
		t.Errorf("Mounts = %+v, want none", j.Mounts)
	}
	if want := []string{"/etc/jailsh/jailsh.toml"}; !slices.Equal(j.Sources, want) {
		t.Errorf("Sources = %q, want %q", j.Sources, want)
	}
}

func TestResolvePrecedence(t *testing.T) {
	const defaults = `[defaults]
root = "/srv/jails/default"
shell = "/bin/sh"
hostname = "defaults"
network = "none"
root_readonly = true
home = true
path = "/bin"
keep_env = ["TERM"]
`
	const userTable = `
[users.alice]
root = "/srv/jails/table"
shell = "/bin/zsh"
hostname = "table"
network = "host"
root_readonly = false
home = false
path = "/usr/bin"
keep_env = ["LANG"]
`
	const userFile = `root = "tmpfs"
shell = "/bin/dash"
hostname = "file"
network = "none"
root_readonly = true
home = true
path = "/opt/bin"
keep_env = ["TZ"]
`
	type want struct {
		root, shell, hostname, path string
		network                     Network
		rootReadOnly, home          bool
		keepEnv, sources            []string
	}
	mainOnly := []string{"/etc/jailsh/jailsh.toml"}
	withFile := []string{"/etc/jailsh/jailsh.toml", "/etc/jailsh/users.d/alice.toml"}
	tests := []struct {
		name      string
		main      string
		userFiles map[string]string
		want      want
	}{
		{"defaults only", "unlisted = \"defaults\"\n" + defaults, nil,
			want{"/srv/jails/default", "/bin/sh", "defaults", "/bin", NetworkNone, true, true, []string{"TERM"}, mainOnly}},
		{"user table over defaults", defaults + userTable, nil,
			want{"/srv/jails/table", "/bin/zsh", "table", "/usr/bin", NetworkHost, false, false, []string{"LANG"}, mainOnly}},
		{"user file over user table", defaults + userTable, map[string]string{"alice": userFile},
			want{RootTmpfs, "/bin/dash", "file", "/opt/bin", NetworkNone, true, true, []string{"TZ"}, withFile}},
		{"user file over defaults", defaults, map[string]string{"alice": userFile},
			want{RootTmpfs, "/bin/dash", "file", "/opt/bin", NetworkNone, true, true, []string{"TZ"}, withFile}},
		{"empty user file keeps user table", defaults + userTable, map[string]string{"alice": "# nothing\n"},
			want{"/srv/jails/table", "/bin/zsh", "table", "/usr/bin", NetworkHost, false, false, []string{"LANG"}, withFile}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := resolve(t, newPolicy(t, tc.main, tc.userFiles), alice)
			w := tc.want
			if j.Root != w.root {
				t.Errorf("Root = %q, want %q", j.Root, w.root)
			}
			if j.Shell != w.shell {
				t.Errorf("Shell = %q, want %q", j.Shell, w.shell)
			}
			if j.Hostname != w.hostname {
				t.Errorf("Hostname = %q, want %q", j.Hostname, w.hostname)
			}
			if j.Path != w.path {
				t.Errorf("Path = %q, want %q", j.Path, w.path)
			}
			if j.Network != w.network {
				t.Errorf("Network = %q, want %q", j.Network, w.network)
			}
			if j.RootReadOnly != w.rootReadOnly {
				t.Errorf("RootReadOnly = %v, want %v", j.RootReadOnly, w.rootReadOnly)
			}
			if j.Home != w.home {
				t.Errorf("Home = %v, want %v", j.Home, w.home)
			}
			if !slices.Equal(j.KeepEnv, w.keepEnv) {
				t.Errorf("KeepEnv = %q, want %q", j.KeepEnv, w.keepEnv)
			}
			if !slices.Equal(j.Sources, w.sources) {
				t.Errorf("Sources = %q, want %q", j.Sources, w.sources)
			}
		})
	}
}

// An empty keep_env in a later layer clears the list, because only a
// missing key leaves the earlier value in place.
func TestResolveSession(t *testing.T) {
	main := "[defaults]\nroot = \"/r\"\n[groups.lab]\nsession = \"shared\"\nlinger = \"90s\"\n[users.alice]\n"
	p := newPolicy(t, main, nil)
	p.GroupDB = &GroupDB{}
	j := resolve(t, p, alice)
	if j.Session != SessionPrivate || j.Linger != 0 {
		t.Errorf("without a group: session %q, linger %v; want private, 0s", j.Session, j.Linger)
	}
	p = newPolicy(t, main, map[string]string{"alice": "linger = \"5m\"\n"})
	db, err := ParseGroups(strings.NewReader("lab:x:70:alice\n"))
	if err != nil {
		t.Fatal(err)
	}
	p.GroupDB = db
	j = resolve(t, p, alice)
	if j.Session != SessionShared || j.Linger != 5*time.Minute {
		t.Errorf("in group lab, with users.d: session %q, linger %v; want shared, 5m0s", j.Session, j.Linger)
	}
}

func TestResolveEmptyKeepEnv(t *testing.T) {
	p := newPolicy(t, "[defaults]\nroot = \"/r\"\nkeep_env = [\"TERM\"]\n\n[users.alice]\nkeep_env = []\n", nil)
	j := resolve(t, p, alice)
	if len(j.KeepEnv) != 0 {
		t.Errorf("KeepEnv = %q, want empty", j.KeepEnv)
	}
}

func TestResolveEnvMerge(t *testing.T) {
	main := `[defaults]
root = "/r"
env = { EDITOR = "vi", PAGER = "less", LANG = "C" }

[users.alice]
env = { EDITOR = "emacs", GOPATH = "/go" }
`
	p := newPolicy(t, main, map[string]string{"alice": "env = { GOPATH = \"/home/alice/go\" }\n"})
	j := resolve(t, p, alice)
	want := map[string]string{"EDITOR": "emacs", "PAGER": "less", "LANG": "C", "GOPATH": "/home/alice/go"}
	if !maps.Equal(j.Env, want) {
		t.Errorf("Env = %v, want %v", j.Env, want)
	}
}

// Resolve must not write into the parsed policy, which serves every user
// that jailctl check resolves.
func TestResolveLeavesPolicyUnchanged(t *testing.T) {
	main := `unlisted = "defaults"

[defaults]
root = "/r"
env = { EDITOR = "vi" }
mounts = [{ source = "/srv/a" }]

[users.alice]
env = { EDITOR = "emacs" }
mounts = [{ source = "/srv/b", target = "/srv/a" }]
`
	p := newPolicy(t, main, nil)
	resolve(t, p, alice)

	if got := p.Main.Defaults.Env["EDITOR"]; got != "vi" {
		t.Errorf("defaults.env.EDITOR after Resolve = %q, want vi", got)
	}
	wantMounts := []Mount{{Source: "/srv/a"}}
	if !slices.Equal(p.Main.Defaults.Mounts, wantMounts) {
		t.Errorf("defaults.mounts after Resolve = %+v, want %+v", p.Main.Defaults.Mounts, wantMounts)
	}

	bob := User{Name: "bob", UID: 1001, Home: "/home/bob"}
	j := resolve(t, p, bob)
	if got := j.Env["EDITOR"]; got != "vi" {
		t.Errorf("bob's EDITOR = %q, want vi from defaults", got)
	}
	wantBob := []Mount{{Source: "/srv/a", Target: "/srv/a", Mode: ReadOnly}}
	if !slices.Equal(j.Mounts, wantBob) {
		t.Errorf("bob's mounts = %+v, want %+v", j.Mounts, wantBob)
	}
}

func TestResolveMounts(t *testing.T) {
	tests := []struct {
		name      string
		main      string
		userFiles map[string]string
		want      []Mount
	}{
		{
			name: "target and mode default",
			main: "[defaults]\nroot = \"/r\"\n[[defaults.mounts]]\nsource = \"/srv/data\"\n[users.alice]\n",
			want: []Mount{{Source: "/srv/data", Target: "/srv/data", Mode: ReadOnly}},
		},
		{
			name: "explicit target and mode kept",
			main: "[defaults]\nroot = \"/r\"\n[[defaults.mounts]]\nsource = \"/srv/data\"\ntarget = \"/data\"\nmode = \"rw\"\noptional = true\n[users.alice]\n",
			want: []Mount{{Source: "/srv/data", Target: "/data", Mode: ReadWrite, Optional: true}},
		},
		{
			name: "layers add up",
			main: `[defaults]
root = "/r"
mounts = [{ source = "/srv/a" }]

[users.alice]
mounts = [{ source = "/srv/b", mode = "rw" }]
`,
			userFiles: map[string]string{"alice": "mounts = [{ source = \"/srv/c\", target = \"/c\" }]\n"},
			want: []Mount{
				{Source: "/srv/a", Target: "/srv/a", Mode: ReadOnly},
				{Source: "/srv/b", Target: "/srv/b", Mode: ReadWrite},
				{Source: "/srv/c", Target: "/c", Mode: ReadOnly},
			},
		},
		{
			name: "later layer replaces same target",
			main: `[defaults]
root = "/r"
mounts = [{ source = "/srv/data", target = "/data", mode = "rw" }]

[users.alice]
mounts = [{ source = "/srv/alice-data", target = "/data" }]
`,
			want: []Mount{{Source: "/srv/alice-data", Target: "/data", Mode: ReadOnly}},
		},
		{
			name: "default target replaces explicit one",
			main: `[defaults]
root = "/r"
mounts = [{ source = "/srv/other", target = "/srv/data", mode = "rw" }]

[users.alice]
mounts = [{ source = "/srv/data" }]
`,
			want: []Mount{{Source: "/srv/data", Target: "/srv/data", Mode: ReadOnly}},
		},
		{
			name: "user file replaces user table",
			main: `[defaults]
root = "/r"

[users.alice]
mounts = [{ source = "/srv/a", target = "/data" }, { source = "/srv/b" }]
`,
			userFiles: map[string]string{"alice": "mounts = [{ source = \"/srv/c\", target = \"/data\", mode = \"rw\" }]\n"},
			want: []Mount{
				{Source: "/srv/c", Target: "/data", Mode: ReadWrite},
				{Source: "/srv/b", Target: "/srv/b", Mode: ReadOnly},
			},
		},
		{
			name: "same target twice in one layer",
			main: `[defaults]
root = "/r"
mounts = [{ source = "/srv/a", target = "/data" }, { source = "/srv/b", target = "/data" }]

[users.alice]
`,
			want: []Mount{{Source: "/srv/b", Target: "/data", Mode: ReadOnly}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := resolve(t, newPolicy(t, tc.main, tc.userFiles), alice)
			if !slices.Equal(j.Mounts, tc.want) {
				t.Errorf("Mounts = %+v\nwant %+v", j.Mounts, tc.want)
			}
		})
	}
}

func TestResolveUnlisted(t *testing.T) {
	bob := User{Name: "bob", UID: 1001, Home: "/home/bob"}

	t.Run("refused by default", func(t *testing.T) {
		p := newPolicy(t, "[defaults]\nroot = \"/r\"\n\n[users.alice]\n", nil)
		j, err := p.Resolve(bob)
		if err == nil {
			t.Fatalf("Resolve(bob) = %+v, want an error", j)
		}
		if j != nil {
			t.Errorf("Resolve(bob) returned %+v with the error, want nil", j)
		}
		for _, part := range []string{"user bob has no entry", "[users.bob]", "/etc/jailsh/jailsh.toml", "users.d/bob.toml", `unlisted = "defaults"`} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("error %q does not contain %q", err, part)
			}
		}
	})
	t.Run("refused when set", func(t *testing.T) {
		p := newPolicy(t, "unlisted = \"refuse\"\n[defaults]\nroot = \"/r\"\n", nil)
		if _, err := p.Resolve(bob); err == nil {
			t.Error("Resolve(bob) error = nil, want a refusal")
		}
	})
	t.Run("jailed with defaults", func(t *testing.T) {
		p := newPolicy(t, "unlisted = \"defaults\"\n[defaults]\nroot = \"/srv/jails/x\"\nhostname = \"shared\"\n", nil)
		j := resolve(t, p, bob)
		if j.Root != "/srv/jails/x" {
			t.Errorf("Root = %q, want /srv/jails/x", j.Root)
		}
		if j.Hostname != "shared" {
			t.Errorf("Hostname = %q, want shared", j.Hostname)
		}
		if j.User.Name != "bob" {
			t.Errorf("User.Name = %q, want bob", j.User.Name)
		}
	})
	t.Run("empty user table lists the user", func(t *testing.T) {
		p := newPolicy(t, "[defaults]\nroot = \"/r\"\n\n[users.bob]\n", nil)
		resolve(t, p, bob)
	})
	t.Run("user file lists the user", func(t *testing.T) {
		p := newPolicy(t, "[defaults]\nroot = \"/r\"\n", map[string]string{"bob": "hostname = \"bob\"\n"})
		j := resolve(t, p, bob)
		if j.Hostname != "bob" {
			t.Errorf("Hostname = %q, want bob", j.Hostname)
		}
	})
	t.Run("another user's file does not list", func(t *testing.T) {
		p := newPolicy(t, "[defaults]\nroot = \"/r\"\n", map[string]string{"alice": "hostname = \"alice\"\n"})
		if _, err := p.Resolve(bob); err == nil {
			t.Error("Resolve(bob) error = nil, want a refusal")
		}
	})
}

func TestResolveMissingRoot(t *testing.T) {
	tests := []struct {
		name      string
		main      string
		userFiles map[string]string
	}{
		{"no root anywhere", "[defaults]\nshell = \"/bin/sh\"\n\n[users.alice]\nhostname = \"a\"\n", nil},
		{"unlisted with no root", "unlisted = \"defaults\"\n", nil},
		{"user file without root", "[defaults]\nhostname = \"x\"\n", map[string]string{"alice": "shell = \"/bin/sh\"\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPolicy(t, tc.main, tc.userFiles)
			j, err := p.Resolve(alice)
			if err == nil {
				t.Fatalf("Resolve = %+v, want an error", j)
			}
			if !strings.Contains(err.Error(), "user alice has no root filesystem") {
				t.Errorf("error %q does not say that alice has no root filesystem", err)
			}
			if !strings.Contains(err.Error(), "set root") {
				t.Errorf("error %q does not name the fix (set root)", err)
			}
		})
	}
}

func TestPolicyUsers(t *testing.T) {
	p := newPolicy(t, "[users.carol]\n[users.alice]\n", map[string]string{"bob": "", "alice": ""})
	want := []string{"alice", "bob", "carol"}
	if got := p.Users(); !slices.Equal(got, want) {
		t.Errorf("Users() = %q, want %q", got, want)
	}
}

// A mount that replaces an earlier one on the same target keeps its place,
// so that /data is still bound before /data/sub and does not hide it.
func TestResolveMountReplaceKeepsOrder(t *testing.T) {
	main := `[defaults]
root = "/r"

[[defaults.mounts]]
source = "/srv/data"
target = "/data"

[[defaults.mounts]]
source = "/srv/sub"
target = "/data/sub"

[users.alice]
mounts = [{ source = "/srv/alice-data", target = "/data", mode = "rw" }, { source = "/srv/tools" }]
`
	j := resolve(t, newPolicy(t, main, nil), alice)
	want := []Mount{
		{Source: "/srv/alice-data", Target: "/data", Mode: ReadWrite},
		{Source: "/srv/sub", Target: "/data/sub", Mode: ReadOnly},
		{Source: "/srv/tools", Target: "/srv/tools", Mode: ReadOnly},
	}
	if !slices.Equal(j.Mounts, want) {
		t.Errorf("Mounts = %+v\nwant %+v", j.Mounts, want)
	}
}

// A jail's KeepEnv must be its own copy, or a caller that edits it would
// change the defaults of every later jail.
func TestResolveKeepEnvNotShared(t *testing.T) {
	saved := slices.Clone(DefaultKeepEnv)
	defer func() { DefaultKeepEnv = saved }()

	j := resolve(t, newPolicy(t, "[defaults]\nroot = \"/r\"\n\n[users.alice]\n", nil), alice)
	if len(j.KeepEnv) == 0 {
		t.Fatal("KeepEnv is empty, want the default list")
	}
	j.KeepEnv[0] = "CHANGED"
	if DefaultKeepEnv[0] != saved[0] {
		t.Errorf("DefaultKeepEnv[0] = %q after editing a jail's KeepEnv, want %q", DefaultKeepEnv[0], saved[0])
	}
}
