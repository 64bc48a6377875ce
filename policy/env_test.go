package policy

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

func testJail(keep []string, env map[string]string) *Jail {
	return &Jail{
		User:    User{Name: "alice", UID: 1000, GID: 1000, Home: "/home/alice"},
		Shell:   "/bin/zsh",
		Path:    "/usr/bin:/bin",
		KeepEnv: keep,
		Env:     env,
	}
}

// envMap turns BuildEnv's output into a map, failing on duplicate names.
func envMap(t *testing.T, env []string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			t.Errorf("entry %q has no '='", kv)
			continue
		}
		if _, dup := m[name]; dup {
			t.Errorf("variable %s appears twice in %q", name, env)
		}
		m[name] = value
	}
	return m
}

func TestBuildEnvKeepsMatching(t *testing.T) {
	login := []string{"TERM=xterm-256color", "LANG=C.UTF-8", "LC_ALL=de_DE.UTF-8", "LC_TIME=C", "FOO=bar", "SSH_AUTH_SOCK=/tmp/agent", "LCX=1"}
	got := BuildEnv(testJail([]string{"TERM", "LC_*"}, nil), login)
	want := []string{
		"HOME=/home/alice",
		"LC_ALL=de_DE.UTF-8",
		"LC_TIME=C",
		"LOGNAME=alice",
		"PATH=/usr/bin:/bin",
		"SHELL=/bin/zsh",
		"TERM=xterm-256color",
		"USER=alice",
	}
	if !slices.Equal(got, want) {
		t.Errorf("BuildEnv =\n%q\nwant\n%q", got, want)
	}
}

func TestBuildEnvEmptyLogin(t *testing.T) {
	got := BuildEnv(testJail(DefaultKeepEnv, nil), nil)
	want := []string{"HOME=/home/alice", "LOGNAME=alice", "PATH=/usr/bin:/bin", "SHELL=/bin/zsh", "USER=alice"}
	if !slices.Equal(got, want) {
		t.Errorf("BuildEnv =\n%q\nwant\n%q", got, want)
	}
}

// The denied variables must stay out whatever keep_env contains, because the
// login environment is under the user's control.
func TestBuildEnvDenied(t *testing.T) {
	login := []string{
		"LD_PRELOAD=/tmp/evil.so",
		"LD_LIBRARY_PATH=/tmp",
		"LD_AUDIT=/tmp/audit.so",
		"BASH_ENV=/tmp/rc",
		"ENV=/tmp/rc",
		"IFS=/",
		"BASH_FUNC_ls%%=() { /tmp/evil; }",
		"BASH_FUNC_x%%=() { :; }",
		"PROMPT_COMMAND=/tmp/evil",
		"PS4=$(/tmp/evil)",
		"GCONV_PATH=/tmp",
		"GLIBC_TUNABLES=glibc.malloc.check=3",
		"MALLOC_CHECK_=3",
		"PYTHONSTARTUP=/tmp/evil.py",
		"PERL5OPT=-Mevil",
		"NODE_OPTIONS=--require=/tmp/evil.js",
		"SHELLOPTS=xtrace",
		"TMPDIR=/tmp/x",
		"TERM=xterm",
		"LANG=C",
	}
	denied := []string{
		"LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "BASH_ENV", "ENV", "IFS", "BASH_FUNC_ls%%", "BASH_FUNC_x%%",
		"PROMPT_COMMAND", "PS4", "GCONV_PATH", "GLIBC_TUNABLES", "MALLOC_CHECK_", "PYTHONSTARTUP", "PERL5OPT",
		"NODE_OPTIONS", "SHELLOPTS", "TMPDIR",
	}
	tests := []struct {
		name     string
		keep     []string
		wantKept []string // login variables that must come through
	}{
		{"prefix LD_", []string{"LD_*"}, nil},
		{"exact LD_PRELOAD", []string{"LD_PRELOAD", "LD_LIBRARY_PATH"}, nil},
		{"match everything", []string{"*"}, []string{"TERM", "LANG"}},
		{"one letter prefixes", []string{"L*", "B*", "I*", "E*", "P*", "G*", "M*", "N*", "S*", "T*"}, []string{"TERM", "LANG"}},
		{"exact names", denied, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := envMap(t, BuildEnv(testJail(tc.keep, nil), login))
			for _, name := range denied {
				if v, ok := env[name]; ok {
					t.Errorf("%s=%q passed into the jail with keep_env %q", name, v, tc.keep)
				}
			}
			for _, name := range tc.wantKept {
				if _, ok := env[name]; !ok {
					t.Errorf("%s missing with keep_env %q", name, tc.keep)
				}
			}
		})
	}
}

func TestBuildEnvFixedVariables(t *testing.T) {
	login := []string{"HOME=/root", "USER=root", "LOGNAME=root", "SHELL=/usr/local/bin/jailsh", "PATH=/tmp/evil:/usr/bin"}
	env := envMap(t, BuildEnv(testJail([]string{"*"}, nil), login))
	want := map[string]string{
		"HOME":    "/home/alice",
		"USER":    "alice",
		"LOGNAME": "alice",
		"SHELL":   "/bin/zsh",
		"PATH":    "/usr/bin:/bin",
	}
	for name, value := range want {
		if env[name] != value {
			t.Errorf("%s = %q, want %q", name, env[name], value)
		}
	}
}

func TestBuildEnvPolicyOverridesLogin(t *testing.T) {
	login := []string{"EDITOR=nano", "PAGER=more", "TERM=xterm"}
	j := testJail([]string{"EDITOR", "PAGER", "TERM"}, map[string]string{"EDITOR": "vi", "GOPATH": "/home/alice/go"})
	env := envMap(t, BuildEnv(j, login))
	want := map[string]string{"EDITOR": "vi", "PAGER": "more", "TERM": "xterm", "GOPATH": "/home/alice/go"}
	for name, value := range want {
		if env[name] != value {
			t.Errorf("%s = %q, want %q", name, env[name], value)
		}
	}
}

// Policy values are set even when keep_env does not name them.
func TestBuildEnvPolicyWithoutKeep(t *testing.T) {
	env := envMap(t, BuildEnv(testJail(nil, map[string]string{"EDITOR": "vi"}), []string{"EDITOR=nano"}))
	if env["EDITOR"] != "vi" {
		t.Errorf("EDITOR = %q, want vi", env["EDITOR"])
	}
}

func TestBuildEnvMalformedLogin(t *testing.T) {
	login := []string{"NOEQUALS", "=empty-name", "TERM=a=b", "LANG=", "TERM2"}
	env := envMap(t, BuildEnv(testJail([]string{"TERM", "LANG", "NOEQUALS"}, nil), login))
	if v, ok := env["NOEQUALS"]; ok {
		t.Errorf("entry without '=' kept as NOEQUALS=%q", v)
	}
	if v, ok := env[""]; ok {
		t.Errorf("entry with an empty name kept as %q", v)
	}
	if env["TERM"] != "a=b" {
		t.Errorf("TERM = %q, want a=b (split at the first '=')", env["TERM"])
	}
	if v, ok := env["LANG"]; !ok || v != "" {
		t.Errorf("LANG = %q (present %v), want empty and present", v, ok)
	}
}

func TestBuildEnvSorted(t *testing.T) {
	login := []string{"ZZ=1", "AA=2", "MM=3", "LC_B=4", "LC_A=5"}
	j := testJail([]string{"ZZ", "AA", "MM", "LC_*"}, map[string]string{"QQ": "6", "BB": "7"})
	got := BuildEnv(j, login)
	if !sort.StringsAreSorted(got) {
		t.Errorf("BuildEnv = %q, want sorted", got)
	}
	if len(got) != 12 {
		t.Errorf("BuildEnv returned %d entries, want 12: %q", len(got), got)
	}
}

// BuildEnv's denied list must match what the parser rejects in env
// tables, so that a policy cannot set what the login may not pass.
func TestEnvNameDenied(t *testing.T) {
	tests := []struct {
		name   string
		denied bool
	}{
		{"LD_PRELOAD", true},
		{"LD_", true},
		{"BASH_ENV", true},
		{"BASH_FUNC_ls", true},
		{"IFS", true},
		{"PYTHONPATH", true},
		{"MALLOC_ARENA_MAX", true},
		{"TERM", false},
		{"LDX", false},
		{"MY_LD_PRELOAD", false},
		{"IFS2", false},
		{"ENVIRONMENT", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := isDeniedEnv(tc.name); got != tc.denied {
				t.Errorf("isDeniedEnv(%q) = %v, want %v", tc.name, got, tc.denied)
			}
			err := checkEnvName(tc.name)
			if tc.denied && err == nil {
				t.Errorf("checkEnvName(%q) = nil, want an error", tc.name)
			}
			if !tc.denied && err != nil {
				t.Errorf("checkEnvName(%q) = %v, want nil", tc.name, err)
			}
		})
	}
}
