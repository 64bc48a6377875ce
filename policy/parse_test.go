package policy

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

const validMainFile = `# Policy for the build hosts.
unlisted = "defaults"

[defaults]
root = "/srv/jails/bookworm"
root_readonly = true
shell = "/bin/bash"
hostname = "jail"
network = "none"
home = true
path = "/usr/bin:/bin"
keep_env = ["TERM", "LC_*", "LD_*"]

[defaults.env]
EDITOR = "vi"

[[defaults.mounts]]
source = "/srv/shared"
target = "/shared"
mode = "rw"

[[defaults.mounts]]
source = "/opt/tools"
optional = true

[users.alice]
root = "tmpfs"
network = "host"

[users."first.last"]
hostname = "build-01.example"

[users."web-deploy"]
home = false

[users."host01$"]
root_readonly = false
`

const validUserFile = `root = "/srv/jails/alice"
root_readonly = false
hostname = "alice"
env = { GOPATH = "/home/alice/go" }

[[mounts]]
source = "/srv/data"
target = "/data"
mode = "ro"
`

// policyError returns err as a *Error, failing the test when it is not one.
func policyError(t *testing.T, err error) *Error {
	t.Helper()
	if err == nil {
		t.Fatal("error = nil, want a *policy.Error")
	}
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %q has type %T, want *policy.Error", err, err)
	}
	return pe
}

func TestParseFileValid(t *testing.T) {
	f, err := ParseFile("jailsh.toml", []byte(validMainFile))
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}

	if f.Unlisted != UnlistedDefaults {
		t.Errorf("Unlisted = %q, want %q", f.Unlisted, UnlistedDefaults)
	}
	d := f.Defaults
	if d.Root == nil || *d.Root != "/srv/jails/bookworm" {
		t.Errorf("defaults.root = %v, want /srv/jails/bookworm", d.Root)
	}
	if d.RootReadOnly == nil || !*d.RootReadOnly {
		t.Errorf("defaults.root_readonly = %v, want true", d.RootReadOnly)
	}
	if d.Shell == nil || *d.Shell != "/bin/bash" {
		t.Errorf("defaults.shell = %v, want /bin/bash", d.Shell)
	}
	if d.Hostname == nil || *d.Hostname != "jail" {
		t.Errorf("defaults.hostname = %v, want jail", d.Hostname)
	}
	if d.Network == nil || *d.Network != NetworkNone {
		t.Errorf("defaults.network = %v, want none", d.Network)
	}
	if d.Home == nil || !*d.Home {
		t.Errorf("defaults.home = %v, want true", d.Home)
	}
	if d.Path == nil || *d.Path != "/usr/bin:/bin" {
		t.Errorf("defaults.path = %v, want /usr/bin:/bin", d.Path)
	}
	if want := []string{"TERM", "LC_*", "LD_*"}; !slices.Equal(d.KeepEnv, want) {
		t.Errorf("defaults.keep_env = %q, want %q", d.KeepEnv, want)
	}
	if got := d.Env["EDITOR"]; got != "vi" {
		t.Errorf("defaults.env.EDITOR = %q, want vi", got)
	}
	wantMounts := []Mount{
		{Source: "/srv/shared", Target: "/shared", Mode: ReadWrite},
		{Source: "/opt/tools", Optional: true},
	}
	if !slices.Equal(d.Mounts, wantMounts) {
		t.Errorf("defaults.mounts = %+v, want %+v", d.Mounts, wantMounts)
	}

	users := []string{}
	for name := range f.Users {
		users = append(users, name)
	}
	slices.Sort(users)
	if want := []string{"alice", "first.last", "host01$", "web-deploy"}; !slices.Equal(users, want) {
		t.Errorf("users = %q, want %q", users, want)
	}
	alice := f.Users["alice"]
	if alice.Root == nil || *alice.Root != RootTmpfs {
		t.Errorf("users.alice.root = %v, want %q", alice.Root, RootTmpfs)
	}
	if alice.Network == nil || *alice.Network != NetworkHost {
		t.Errorf("users.alice.network = %v, want host", alice.Network)
	}
	if alice.Shell != nil {
		t.Errorf("users.alice.shell = %q, want nil (not set in that layer)", *alice.Shell)
	}
	if h := f.Users["first.last"].Hostname; h == nil || *h != "build-01.example" {
		t.Errorf("users.first.last.hostname = %v, want build-01.example", h)
	}
}

func TestParseFileUnlistedDefault(t *testing.T) {
	f, err := ParseFile("jailsh.toml", []byte("[defaults]\nroot = \"/srv/x\"\n"))
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	if f.Unlisted != UnlistedRefuse {
		t.Errorf("Unlisted = %q, want %q", f.Unlisted, UnlistedRefuse)
	}
}

// An empty main file is valid TOML and sets nothing, so every user is
// refused: unlisted defaults to "refuse" and there are no entries.
func TestParseFileEmpty(t *testing.T) {
	f, err := ParseFile("jailsh.toml", nil)
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	if f.Unlisted != UnlistedRefuse {
		t.Errorf("Unlisted = %q, want %q", f.Unlisted, UnlistedRefuse)
	}
	if len(f.Users) != 0 {
		t.Errorf("Users = %v, want none", f.Users)
	}
	if f.Defaults.Root != nil {
		t.Errorf("defaults.root = %q, want nil", *f.Defaults.Root)
	}
}

func TestParseUserFileValid(t *testing.T) {
	s, err := ParseUserFile("users.d/alice.toml", []byte(validUserFile))
	if err != nil {
		t.Fatalf("ParseUserFile: %v", err)
	}
	if s.Root == nil || *s.Root != "/srv/jails/alice" {
		t.Errorf("root = %v, want /srv/jails/alice", s.Root)
	}
	if s.RootReadOnly == nil || *s.RootReadOnly {
		t.Errorf("root_readonly = %v, want false", s.RootReadOnly)
	}
	if s.Hostname == nil || *s.Hostname != "alice" {
		t.Errorf("hostname = %v, want alice", s.Hostname)
	}
	if got := s.Env["GOPATH"]; got != "/home/alice/go" {
		t.Errorf("env.GOPATH = %q, want /home/alice/go", got)
	}
	want := []Mount{{Source: "/srv/data", Target: "/data", Mode: ReadOnly}}
	if !slices.Equal(s.Mounts, want) {
		t.Errorf("mounts = %+v, want %+v", s.Mounts, want)
	}
	if s.Shell != nil {
		t.Errorf("shell = %q, want nil", *s.Shell)
	}
}

func TestParseUserFileEmpty(t *testing.T) {
	s, err := ParseUserFile("users.d/alice.toml", []byte("# nothing yet\n"))
	if err != nil {
		t.Fatalf("ParseUserFile: %v", err)
	}
	if s == nil {
		t.Fatal("ParseUserFile returned nil settings and no error")
	}
	if s.Root != nil || s.Mounts != nil || s.Env != nil {
		t.Errorf("settings = %+v, want nothing set", *s)
	}
}

type parseErrorCase struct {
	name string
	src  string
	line int
	key  string
	msg  string // a part of Error.Msg
}

func checkParseError(t *testing.T, file string, tc parseErrorCase, err error) {
	t.Helper()
	pe := policyError(t, err)
	if pe.File != file {
		t.Errorf("File = %q, want %q", pe.File, file)
	}
	if pe.Line != tc.line {
		t.Errorf("Line = %d, want %d", pe.Line, tc.line)
	}
	if pe.Key != tc.key {
		t.Errorf("Key = %q, want %q", pe.Key, tc.key)
	}
	if !strings.Contains(pe.Msg, tc.msg) {
		t.Errorf("Msg = %q, want it to contain %q", pe.Msg, tc.msg)
	}
}

func TestParseFileErrors(t *testing.T) {
	const unknown = "unknown key"
	tests := []parseErrorCase{
		// Unknown keys: a typo must not drop a restriction silently.
		{"typo at top level", "hostnme = \"x\"\n", 1, "hostnme", unknown},
		{"typo in defaults", "[defaults]\nroot = \"/srv/x\"\nhostnme = \"x\"\n", 3, "defaults.hostnme", unknown},
		{"typo in user table", "[defaults]\nroot = \"/srv/x\"\n\n[users.alice]\nhostnme = \"x\"\n", 5, "users.alice.hostnme", unknown},
		{"typo in mount table", "[defaults]\nroot = \"/srv/x\"\n\n[[defaults.mounts]]\nsource = \"/a\"\nsourse = \"/b\"\n", 6, "defaults.mounts.sourse", unknown},
		{"typo in second mount", "[[defaults.mounts]]\nsource = \"/a\"\n\n[[defaults.mounts]]\nsource = \"/b\"\ntaget = \"/c\"\n", 6, "defaults.mounts.taget", unknown},
		{"typo in inline mount", "[defaults]\nmounts = [{source = \"/a\", taget = \"/b\"}]\n", 2, "defaults.mounts.taget", unknown},
		{"typo in user mount", "[[users.alice.mounts]]\nsource = \"/a\"\nmdoe = \"rw\"\n", 3, "users.alice.mounts.mdoe", unknown},
		{"dotted user name unquoted", "[users.first.last]\nroot = \"/a\"\n", 1, "users.first.last", unknown},

		// Wrong types.
		{"root is integer", "[defaults]\nroot = 5\n", 2, "defaults.root", "5"},
		{"root is array", "[defaults]\nroot = [\"/a\"]\n", 2, "defaults.root", "invalid type: want a string"},
		{"home is string", "[defaults]\nhome = \"yes\"\n", 2, "defaults.home", "incompatible types"},
		{"keep_env is string", "[defaults]\nkeep_env = \"TERM\"\n", 2, "defaults.keep_env", "incompatible types"},

		// Paths.
		{"relative root", "[defaults]\nroot = \"srv/x\"\n", 2, "defaults.root", `invalid path "srv/x": must be absolute`},
		{"relative shell", "[defaults]\nshell = \"bin/bash\"\n", 2, "defaults.shell", `invalid path "bin/bash": must be absolute`},
		{"relative mount source", "[defaults]\n[[defaults.mounts]]\nsource = \"x\"\n", 3, "defaults.mounts.source", `invalid path "x": must be absolute`},
		{"relative mount target", "[[defaults.mounts]]\nsource = \"/x\"\ntarget = \"x\"\n", 3, "defaults.mounts.target", `invalid path "x": must be absolute`},
		{"unclean root", "[defaults]\nroot = \"/srv/../x\"\n", 2, "defaults.root", `must be clean, without ".."`},
		{"unclean root names fix", "[defaults]\nroot = \"/srv/../x\"\n", 2, "defaults.root", `write "/x"`},
		{"root trailing slash", "[defaults]\nroot = \"/srv/x/\"\n", 2, "defaults.root", `write "/srv/x"`},
		{"shell double slash", "[defaults]\nshell = \"/bin//bash\"\n", 2, "defaults.shell", `write "/bin/bash"`},
		{"root with NUL", "[defaults]\nroot = \"/a\\u0000b\"\n", 2, "defaults.root", "NUL byte"},
		{"host root", "[defaults]\nroot = \"/\"\n", 2, "defaults.root", `invalid root "/"`},
		{"relative PATH entry", "[defaults]\npath = \"/bin:usr/bin\"\n", 2, "defaults.path", `invalid PATH entry: invalid path "usr/bin"`},
		{"empty PATH entry", "[defaults]\npath = \"/bin::/usr/bin\"\n", 2, "defaults.path", `invalid PATH entry: invalid path ""`},

		// Enumerations.
		{"bridge network", "[defaults]\nnetwork = \"bridge\"\n", 2, "defaults.network", `invalid network "bridge"`},
		{"mount mode rx", "[[defaults.mounts]]\nsource = \"/a\"\nmode = \"rx\"\n", 3, "defaults.mounts.mode", `invalid mount mode "rx"`},
		{"mount mode upper case", "[[defaults.mounts]]\nsource = \"/a\"\nmode = \"RW\"\n", 3, "defaults.mounts.mode", `invalid mount mode "RW"`},
		{"unlisted allow", "unlisted = \"allow\"\n", 1, "unlisted", `invalid value "allow"`},
		{"session together", "[defaults]\nsession = \"together\"\n", 2, "defaults.session", `invalid session "together": use "private" or "shared"`},
		{"session as boolean", "[defaults]\nsession = true\n", 2, "defaults.session", `like session = "shared", got boolean true`},
		{"linger without unit", "[defaults]\nlinger = \"30\"\n", 2, "defaults.linger", `invalid linger "30": write a duration from "0s" to "24h", such as "30s"`},
		{"linger as integer", "[defaults]\nlinger = 30\n", 2, "defaults.linger", `like linger = "10m", got integer 30`},
		{"linger negative", "[defaults]\nlinger = \"-1s\"\n", 2, "defaults.linger", `must be from "0s" to "24h"`},
		{"linger over a day", "[defaults]\nlinger = \"25h\"\n", 2, "defaults.linger", `must be from "0s" to "24h"`},

		// Host names.
		{"hostname leading dash", "[defaults]\nhostname = \"-bad\"\n", 2, "defaults.hostname", "must not start or end with '-'"},
		{"hostname trailing dash", "[defaults]\nhostname = \"bad-\"\n", 2, "defaults.hostname", "must not start or end with '-'"},
		{"hostname empty label", "[defaults]\nhostname = \"a..b\"\n", 2, "defaults.hostname", "labels must be non-empty"},
		{"hostname underscore", "[defaults]\nhostname = \"my_host\"\n", 2, "defaults.hostname", "only letters, digits"},
		{"hostname empty", "[defaults]\nhostname = \"\"\n", 2, "defaults.hostname", "must be 1 to 64 characters"},
		{"hostname 65 bytes", "[defaults]\nhostname = \"" + strings.Repeat("a", 65) + "\"\n", 2, "defaults.hostname", "must be 1 to 64 characters"},

		// Environment.
		{"env LD_PRELOAD dotted", "[defaults]\nenv.LD_PRELOAD = \"/x.so\"\n", 2, "defaults.env.LD_PRELOAD", `"LD_PRELOAD" may change how programs`},
		{"env LD_LIBRARY_PATH table", "[defaults.env]\nLD_LIBRARY_PATH = \"/x\"\n", 2, "defaults.env.LD_LIBRARY_PATH", "never passed into a jail"},
		{"env BASH_ENV", "[defaults.env]\nBASH_ENV = \"/x\"\n", 2, "defaults.env.BASH_ENV", "never passed into a jail"},
		{"env IFS", "[defaults.env]\nIFS = \" \"\n", 2, "defaults.env.IFS", "never passed into a jail"},
		{"env PYTHONPATH", "[defaults.env]\nPYTHONPATH = \"/x\"\n", 2, "defaults.env.PYTHONPATH", "never passed into a jail"},
		{"env in user table", "[users.alice]\nenv = { GLIBC_TUNABLES = \"x\" }\n", 2, "users.alice.env.GLIBC_TUNABLES", "never passed into a jail"},
		{"env name with digit first", "[defaults.env]\n\"1X\" = \"v\"\n", 2, "defaults.env.1X", `invalid environment variable name "1X"`},
		{"env name with dash", "[defaults.env]\n\"A-B\" = \"v\"\n", 2, "defaults.env.A-B", `invalid environment variable name "A-B"`},
		{"keep_env lone star", "[defaults]\nkeep_env = [\"TERM\", \"*\"]\n", 2, "defaults.keep_env", `invalid keep_env entry "*"`},
		{"keep_env inner star", "[defaults]\nkeep_env = [\"L*C\"]\n", 2, "defaults.keep_env", `invalid keep_env entry "L*C"`},
		{"keep_env space", "[defaults]\nkeep_env = [\"LC ALL\"]\n", 2, "defaults.keep_env", `invalid keep_env entry "LC ALL"`},

		// Mount targets that jailsh sets up itself.
		{"mount target proc", "[[defaults.mounts]]\nsource = \"/a\"\ntarget = \"/proc\"\n", 1, "defaults.mounts", `invalid mount target "/proc"`},
		{"mount target under proc", "[[defaults.mounts]]\nsource = \"/a\"\ntarget = \"/proc/sys\"\n", 1, "defaults.mounts", `invalid mount target "/proc/sys"`},
		{"mount target dev", "[[defaults.mounts]]\nsource = \"/a\"\ntarget = \"/dev\"\n", 1, "defaults.mounts", `invalid mount target "/dev"`},
		{"mount target under dev", "[[defaults.mounts]]\nsource = \"/a\"\ntarget = \"/dev/x\"\n", 1, "defaults.mounts", `invalid mount target "/dev/x"`},
		{"mount target root", "[[defaults.mounts]]\nsource = \"/a\"\ntarget = \"/\"\n", 1, "defaults.mounts", `invalid mount target "/"`},
		{"mount source dev without target", "[defaults]\nroot = \"/r\"\n\n[[defaults.mounts]]\nsource = \"/dev/sda\"\n", 4, "defaults.mounts", `invalid mount target "/dev/sda"`},
		{"mount target in user table", "[users.alice]\nmounts = [{source = \"/a\", target = \"/proc\"}]\n", 2, "users.alice.mounts", `invalid mount target "/proc"`},
		{"mount without source", "[[defaults.mounts]]\ntarget = \"/a\"\n", 1, "defaults.mounts", "mount 1: missing source"},

		// User names.
		{"user name with space", "[defaults]\nroot = \"/a\"\n\n[users.\"bad name\"]\nroot = \"/a\"\n", 4, "users.bad name", `invalid user name "bad name"`},
		{"user name leading dash", "[users.\"-x\"]\n", 1, "users.-x", `invalid user name "-x"`},
		{"user name dollar not last", "[users.\"a$b\"]\n", 1, "users.a$b", `invalid user name "a$b"`},
		{"user name with slash", "[users.\"a/b\"]\n", 1, "users.a/b", `invalid user name "a/b"`},
		{"user name dot", "[users.\".\"]\n", 1, "users..", `invalid user name "."`},
		{"user name dot dot", "[users.\"..\"]\n", 1, "users...", `invalid user name ".."`},
		{"user name empty", "[users.\"\"]\n", 1, "users.", `invalid user name ""`},
		{"user name non-ASCII", "[users.\"jürgen\"]\n", 1, "users.jürgen", `invalid user name "jürgen"`},
		{"user name 257 bytes", "[users." + strings.Repeat("a", 257) + "]\n", 1, "users." + strings.Repeat("a", 257), "invalid user name"},

		// Syntax.
		{"duplicate key", "[defaults]\nroot = \"/a\"\nroot = \"/b\"\n", 3, "defaults.root", "has already been defined"},
		{"NUL bytes", "\x00\x01\xff\xfe[[[\n", 1, "", "cannot contain NULL bytes"},
		{"unterminated string", "[defaults]\nroot = \"/a\n", 2, "defaults.root", "strings cannot contain newlines"},
		{"missing value", "[defaults]\nroot =\n", 2, "defaults.root", "expected value"},
		{"invalid UTF-8", "[defaults]\nhostname = \"\xff\xfe\"\n", 2, "defaults.hostname", "UTF-8"},
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

// A table defined twice is reported on the second header. The decoder
// gives no key for it, so the message is what names the table.
func TestParseFileDuplicateTable(t *testing.T) {
	_, err := ParseFile("jailsh.toml", []byte("[defaults]\nroot = \"/a\"\n[defaults]\nshell = \"/b\"\n"))
	pe := policyError(t, err)
	if pe.File != "jailsh.toml" {
		t.Errorf("File = %q, want jailsh.toml", pe.File)
	}
	if pe.Line != 3 {
		t.Errorf("Line = %d, want 3", pe.Line)
	}
	if !strings.Contains(pe.Msg, "'defaults' has already been defined") {
		t.Errorf("Msg = %q, want it to name the table defaults", pe.Msg)
	}
}

func TestParseUserFileErrors(t *testing.T) {
	tests := []parseErrorCase{
		{"typo", "root = \"/a\"\nhostnme = \"x\"\n", 2, "hostnme", "unknown key"},
		{"main file key", "unlisted = \"defaults\"\n", 1, "unlisted", "unknown key"},
		{"users table", "[users.alice]\nroot = \"/a\"\n", 1, "users.alice", "unknown key"},
		{"typo in mount", "[[mounts]]\nsource = \"/a\"\ntaregt = \"/b\"\n", 3, "mounts.taregt", "unknown key"},
		{"relative root", "root = \"srv/x\"\n", 1, "root", "must be absolute"},
		{"wrong type", "root_readonly = \"no\"\n", 1, "root_readonly", "incompatible types"},
		{"env LD_PRELOAD", "env.LD_PRELOAD = \"/x.so\"\n", 1, "env.LD_PRELOAD", "never passed into a jail"},
		{"env BASH_FUNC", "[env]\nBASH_FUNC_ls = \"() { :; }\"\n", 2, "env.BASH_FUNC_ls", "never passed into a jail"},
		{"mount target proc", "\n[[mounts]]\nsource = \"/a\"\ntarget = \"/proc\"\n", 2, "mounts", `invalid mount target "/proc"`},
		{"bad network", "network = \"bridge\"\n", 1, "network", `invalid network "bridge"`},
		{"duplicate key", "shell = \"/bin/sh\"\nshell = \"/bin/bash\"\n", 2, "shell", "has already been defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseUserFile("users.d/alice.toml", []byte(tc.src))
			if s != nil {
				t.Errorf("ParseUserFile returned %+v with the error, want nil", s)
			}
			checkParseError(t, "users.d/alice.toml", tc, err)
		})
	}
}

func TestParseFileTooLarge(t *testing.T) {
	data := []byte(strings.Repeat("#", MaxFileSize+1))
	parsers := map[string]func(string, []byte) error{
		"ParseFile":     func(n string, d []byte) error { _, err := ParseFile(n, d); return err },
		"ParseUserFile": func(n string, d []byte) error { _, err := ParseUserFile(n, d); return err },
	}
	for name, parse := range parsers {
		t.Run(name, func(t *testing.T) {
			pe := policyError(t, parse("big.toml", data))
			if pe.File != "big.toml" {
				t.Errorf("File = %q, want big.toml", pe.File)
			}
			if pe.Line != 0 {
				t.Errorf("Line = %d, want 0", pe.Line)
			}
			if pe.Key != "" {
				t.Errorf("Key = %q, want empty", pe.Key)
			}
			if !strings.Contains(pe.Msg, "1048577 bytes") {
				t.Errorf("Msg = %q, want it to give the size 1048577 bytes", pe.Msg)
			}
		})
	}
}

func TestParseFileAtSizeLimit(t *testing.T) {
	data := []byte("#" + strings.Repeat("x", MaxFileSize-2) + "\n")
	if len(data) != MaxFileSize {
		t.Fatalf("test data is %d bytes, want %d", len(data), MaxFileSize)
	}
	if _, err := ParseFile("big.toml", data); err != nil {
		t.Errorf("ParseFile of a %d-byte comment: %v, want no error", len(data), err)
	}
}

func TestParseFileUserNames(t *testing.T) {
	names := []string{"alice", "first.last", "web-deploy", "a-b.c_d", "_svc", "HOST01$", "u1000", ".hidden"}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			src := "[users.\"" + name + "\"]\nroot = \"/srv/x\"\n"
			f, err := ParseFile("jailsh.toml", []byte(src))
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			s, ok := f.Users[name]
			if !ok {
				t.Fatalf("user %q missing from Users %v", name, f.Users)
			}
			if s.Root == nil || *s.Root != "/srv/x" {
				t.Errorf("users.%s.root = %v, want /srv/x", name, s.Root)
			}
		})
	}
}

// keep_env entries are patterns, so prefixes of denied names are accepted
// there. BuildEnv drops the denied variables later.
func TestParseFileKeepEnvPatterns(t *testing.T) {
	patterns := []string{"LD_*", "LD_PRELOAD", "BASH_*", "L*", "IFS", "LC_*", "X1*"}
	for _, p := range patterns {
		t.Run(p, func(t *testing.T) {
			src := "[defaults]\nkeep_env = [\"" + p + "\"]\n"
			f, err := ParseFile("jailsh.toml", []byte(src))
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			if want := []string{p}; !slices.Equal(f.Defaults.KeepEnv, want) {
				t.Errorf("keep_env = %q, want %q", f.Defaults.KeepEnv, want)
			}
		})
	}
}

func TestParseFileHostnames(t *testing.T) {
	names := []string{"jail", "build-01", "a.b.example", "A1", strings.Repeat("a", 63), strings.Repeat("a", 31) + "." + strings.Repeat("b", 32)}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			f, err := ParseFile("jailsh.toml", []byte("[defaults]\nhostname = \""+name+"\"\n"))
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			if h := f.Defaults.Hostname; h == nil || string(*h) != name {
				t.Errorf("hostname = %v, want %q", h, name)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{"line and key", Error{File: "/etc/jailsh/jailsh.toml", Line: 3, Key: "defaults.root", Msg: "bad"}, `/etc/jailsh/jailsh.toml:3: key "defaults.root": bad`},
		{"no line", Error{File: "a.toml", Key: "root", Msg: "bad"}, `a.toml: key "root": bad`},
		{"no key", Error{File: "a.toml", Line: 1, Msg: "bad"}, `a.toml:1: bad`},
		{"file only", Error{File: "a.toml", Msg: "too big"}, `a.toml: too big`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

// A table header followed by a comment is still a header, so that keys
// below it are found on their own lines.
func TestParseFileHeaderWithComment(t *testing.T) {
	tests := []parseErrorCase{
		{"array header", "[[defaults.mounts]] # shared data\nsource = \"/a\"\ntarget = \"/proc\"\n", 1, "defaults.mounts", `invalid mount target "/proc"`},
		{"key under array header", "[[defaults.mounts]]   # shared data\nsource = \"/a\"\nsourse = \"/b\"\n", 3, "defaults.mounts.sourse", "unknown key"},
		{"table header", "[defaults] # all users\nroot = \"/a\"\nhostnme = \"x\"\n", 3, "defaults.hostnme", "unknown key"},
		{"comment with brackets", "[users.alice] # see [defaults]\nhostnme = \"x\"\n", 2, "users.alice.hostnme", "unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("jailsh.toml", []byte(tc.src))
			checkParseError(t, "jailsh.toml", tc, err)
		})
	}
}

// Each mount error names the mount by its number and points at that
// mount's own [[...mounts]] header, or at the key that failed in it.
func TestParseFileMountErrorLine(t *testing.T) {
	tests := []parseErrorCase{
		{"second of three has no source",
			"[[defaults.mounts]]\nsource = \"/a\"\n\n[[defaults.mounts]]\ntarget = \"/b\"\n\n[[defaults.mounts]]\nsource = \"/c\"\n",
			4, "defaults.mounts", "mount 2: missing source"},
		{"user mount after defaults mounts",
			"[[defaults.mounts]]\nsource = \"/a\"\n\n[[users.alice.mounts]]\nsource = \"/b\"\n\n[[users.alice.mounts]]\nsource = \"/c\"\ntarget = \"/dev/x\"\n",
			7, "users.alice.mounts", `mount 2: invalid mount target "/dev/x"`},
		{"quoted user name",
			"[[users.\"first.last\".mounts]]\nsource = \"/a\"\n[[users.\"first.last\".mounts]]\nsource = \"/proc\"\n",
			3, `users."first.last".mounts`, `mount 2: invalid mount target "/proc"`},
		{"inline mounts",
			"[defaults]\nmounts = [{ source = \"/a\" }, { target = \"/b\" }]\n",
			2, "defaults.mounts", "mount 2: missing source"},
		{"bad mode in first of two",
			"[[defaults.mounts]]\nsource = \"/a\"\nmode = \"rx\"\n\n[[defaults.mounts]]\nsource = \"/b\"\nmode = \"ro\"\n",
			3, "defaults.mounts.mode", `mount 1: invalid mount mode "rx"`},
		{"relative source in second of three",
			"[[defaults.mounts]]\nsource = \"/a\"\n\n[[defaults.mounts]]\nsource = \"b\"\n\n[[defaults.mounts]]\nsource = \"/c\"\n",
			5, "defaults.mounts.source", `mount 2: invalid path "b"`},
		{"optional not boolean in second",
			"[[users.alice.mounts]]\nsource = \"/a\"\noptional = true\n[[users.alice.mounts]]\nsource = \"/b\"\noptional = \"yes\"\n",
			6, "users.alice.mounts.optional", "mount 2: "},
		{"mount that is no table",
			"[defaults]\nmounts = [{ source = \"/a\" }, \"/b\"]\n",
			2, "defaults.mounts", `mount 2: invalid type: want a table, like { source = "/srv/data" }, got string`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("jailsh.toml", []byte(tc.src))
			checkParseError(t, "jailsh.toml", tc, err)
			if pe := policyError(t, err); !strings.HasPrefix(pe.Msg, tc.msg[:len("mount N: ")]) {
				t.Errorf("Msg = %q, want it to start with %q", pe.Msg, tc.msg[:len("mount N: ")])
			}
		})
	}
}

func TestParseUserFileMountErrorLine(t *testing.T) {
	tests := []parseErrorCase{
		{"second has no source", "[[mounts]]\nsource = \"/a\"\n\n[[mounts]] # data\ntarget = \"/b\"\n", 4, "mounts", "mount 2: missing source"},
		{"target under dev", "root = \"/r\"\n[[mounts]]\nsource = \"/a\"\n[[mounts]]\nsource = \"/b\"\n[[mounts]]\nsource = \"/c\"\ntarget = \"/dev/c\"\n", 6, "mounts", `mount 3: invalid mount target "/dev/c"`},
		{"bad mode in first", "[[mounts]]\nsource = \"/a\"\nmode = \"x\"\n[[mounts]]\nsource = \"/b\"\nmode = \"rw\"\n", 3, "mounts.mode", `mount 1: invalid mount mode "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseUserFile("users.d/alice.toml", []byte(tc.src))
			checkParseError(t, "users.d/alice.toml", tc, err)
		})
	}
}

func TestLocateArrayTable(t *testing.T) {
	data := []byte(`[[defaults.mounts]]
source = "/a"

[[users.alice.mounts]] # first
source = "/b"

  [[ defaults.mounts ]]
source = "/c"
# [[defaults.mounts]]
`)
	tests := []struct {
		key  toml.Key
		n    int
		want int
	}{
		{toml.Key{"defaults", "mounts"}, 1, 1},
		{toml.Key{"defaults", "mounts"}, 2, 7},
		{toml.Key{"defaults", "mounts"}, 3, 0},
		{toml.Key{"users", "alice", "mounts"}, 1, 4},
		{toml.Key{"users", "bob", "mounts"}, 1, 0},
		{toml.Key{"mounts"}, 1, 0},
	}
	for _, tc := range tests {
		if got := locateArrayTable(data, tc.key, tc.n); got != tc.want {
			t.Errorf("locateArrayTable(%s, %d) = %d, want %d", tc.key, tc.n, got, tc.want)
		}
	}
}

// The decoder turns integers, floats, booleans and datetimes into text for
// an encoding.TextUnmarshaler, so each string type must check the TOML type
// itself.
func TestParseFileRejectsNonString(t *testing.T) {
	const want = "invalid type: want a string, like "
	tests := []parseErrorCase{
		{"hostname integer", "[defaults]\nhostname = 5\n", 2, "defaults.hostname", want + `hostname = "web1", got integer 5`},
		{"network boolean", "[defaults]\nnetwork = true\n", 2, "defaults.network", want + `network = "none", got boolean true`},
		{"root float", "[defaults]\nroot = 1.5\n", 2, "defaults.root", want + `root = "/srv/jails/bookworm", got float 1.5`},
		{"root datetime", "[defaults]\nroot = 1979-05-27T07:32:00Z\n", 2, "defaults.root", "got datetime"},
		{"root local date", "[defaults]\nroot = 1979-05-27\n", 2, "defaults.root", "got datetime"},
		{"shell integer", "[users.alice]\nshell = 0\n", 2, "users.alice.shell", `like "/bin/bash", got integer 0`},
		{"unlisted boolean", "unlisted = false\n", 1, "unlisted", want + `unlisted = "refuse", got boolean false`},
		{"mode integer", "[[defaults.mounts]]\nsource = \"/a\"\nmode = 1\n", 3, "defaults.mounts.mode", `mount 1: invalid type: want a string, like mode = "ro", got integer 1`},
		{"source array", "[[defaults.mounts]]\nsource = [\"/a\"]\n", 2, "defaults.mounts.source", "got array"},
		{"hostname table", "[defaults]\nhostname = { name = \"x\" }\n", 2, "defaults.hostname", "got table"},
		{"network array of tables", "[[defaults.network]]\n", 1, "defaults.network", "got array of tables"},
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

// A key that must hold a table is rejected when it holds anything else,
// even where the decoder would silently decode nothing.
func TestParseFileRejectsNonTable(t *testing.T) {
	tests := []parseErrorCase{
		{"users integer", "users = 5\n", 1, "users", "invalid type: want a table, like [users.alice], got integer"},
		{"users empty array", "unlisted = \"defaults\"\nusers = []\n", 2, "users", "got array"},
		{"users array of tables", "[[users]]\nroot = \"/a\"\n", 1, "users", "got array of tables"},
		{"defaults string", "defaults = \"/srv/x\"\n", 1, "defaults", "invalid type: want a table, like [defaults], got string"},
		{"defaults array of tables", "[[defaults]]\n", 1, "defaults", "got array of tables"},
		{"user integer", "[users]\nalice = 5\n", 2, "users.alice", "want a table, like [users.alice], got integer"},
		{"env integer", "[defaults]\nenv = 5\n", 2, "defaults.env", `invalid type: want a table, like env = { EDITOR = "vi" }, got integer`},
		{"env array", "[users.alice]\nenv = [\"EDITOR=vi\"]\n", 2, "users.alice.env", "got array"},
		{"env of quoted user", "[users.\"first.last\"]\nenv = \"x\"\n", 2, `users."first.last".env`, "got string"},
		{"user named env", "[users]\nenv = 5\n", 2, "users.env", "want a table, like [users.env], got integer"},
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

func TestParseUserFileRejectsWrongTypes(t *testing.T) {
	tests := []parseErrorCase{
		{"env integer", "env = 5\n", 1, "env", "invalid type: want a table"},
		{"env string", "root = \"/r\"\nenv = \"EDITOR=vi\"\n", 2, "env", "got string"},
		{"hostname integer", "hostname = 5\n", 1, "hostname", `like hostname = "web1", got integer 5`},
		{"mode boolean", "[[mounts]]\nsource = \"/a\"\nmode = true\n", 3, "mounts.mode", "mount 1: invalid type: want a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseUserFile("users.d/alice.toml", []byte(tc.src))
			if s != nil {
				t.Errorf("ParseUserFile returned %+v with the error, want nil", s)
			}
			checkParseError(t, "users.d/alice.toml", tc, err)
		})
	}
}

// jailsh sets these variables itself after env, so a policy value for one
// would be silently ignored.
func TestParseFileEnvSetByJailsh(t *testing.T) {
	for _, name := range []string{"HOME", "USER", "LOGNAME", "SHELL", "PATH"} {
		t.Run(name, func(t *testing.T) {
			src := "[defaults]\nroot = \"/r\"\n\n[defaults.env]\n" + name + " = \"x\"\n"
			tc := parseErrorCase{name, src, 5, "defaults.env." + name, "is set by jailsh"}
			_, err := ParseFile("jailsh.toml", []byte(src))
			checkParseError(t, "jailsh.toml", tc, err)
		})
	}
	t.Run("PATH names path key", func(t *testing.T) {
		_, err := ParseUserFile("users.d/alice.toml", []byte("env = { PATH = \"/bin\" }\n"))
		pe := policyError(t, err)
		if !strings.Contains(pe.Msg, `path = "/usr/bin:/bin"`) {
			t.Errorf("Msg = %q, want it to point at the path key", pe.Msg)
		}
	})
	t.Run("lower case home allowed", func(t *testing.T) {
		if _, err := ParseUserFile("users.d/alice.toml", []byte("env = { home = \"x\", PATHS = \"y\" }\n")); err != nil {
			t.Errorf("ParseUserFile: %v, want no error", err)
		}
	})
}

// A label may have at most 63 characters, and the whole name at most 64.
func TestParseFileHostnameLabelTooLong(t *testing.T) {
	tests := []parseErrorCase{
		{"one label of 64", "[defaults]\nhostname = \"" + strings.Repeat("a", 64) + "\"\n", 2, "defaults.hostname", "label " + strings.Repeat("a", 64) + " is longer than 63 characters"},
		{"label of 64 in a longer name", "[defaults]\nhostname = \"a." + strings.Repeat("b", 64) + "\"\n", 2, "defaults.hostname", "must be 1 to 64 characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("jailsh.toml", []byte(tc.src))
			checkParseError(t, "jailsh.toml", tc, err)
		})
	}
}

// The decoder quotes a key with %q in the text of a type error, so a
// quoted user name arrives with escaped quotes.
func TestParseFileQuotedUserTypeError(t *testing.T) {
	tc := parseErrorCase{"boolean as string", "[users.\"first.last\"]\nhome = \"yes\"\n", 2, `users."first.last".home`, "incompatible types"}
	_, err := ParseFile("jailsh.toml", []byte(tc.src))
	checkParseError(t, "jailsh.toml", tc, err)
}
