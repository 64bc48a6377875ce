package policy

import (
	"errors"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	validMainFile,
	validUserFile,
	"",
	"unlisted = \"defaults\"\n[defaults]\nroot = \"tmpfs\"\n",
	"[defaults]\nroot = \"/srv/x\"\nhostnme = \"x\"\n",
	"[[defaults.mounts]]\nsource = \"/a\"\ntarget = \"/proc\"\n",
	"[[mounts]]\nsource = \"x\"\nmode = \"rx\"\n",
	"[defaults]\nroot = 5\nnetwork = \"bridge\"\n",
	"[defaults]\nenv.LD_PRELOAD = \"/x.so\"\nkeep_env = [\"*\"]\n",
	"[users.\"bad name\"]\n",
	"[users.first.last]\nroot = \"/a\"\n",
	"[defaults]\nroot = \"/a\"\nroot = \"/b\"\n",
	"[defaults]\nmounts = [{source = \"/a\", taget = \"/b\"}]\n",
	"[defaults]\npath = \"/bin::usr/bin\"\nhostname = \"-x\"\n",
	"\x00\x01\xff\xfe[[[\n",
	"[[defaults.mounts]] # comment\n[defaults\n'''",
	"users = 5\n[defaults]\nenv = [\"A\"]\nhostname = 5\n",
	"[users.\"first.last\"]\nenv = 1979-05-27\nhome = \"yes\"\n",
	"[[mounts]]\nsource = \"/a\"\nmode = 1\n[[mounts]]\nsource = \"/b\"\nmode = \"x\"\n",
	"[defaults]\nmounts = [{ source = \"/a\" }, \"/b\", { target = \"/dev/x\" }]\n",
	"[[users.alice.mounts]]\nsource = \"/a\"\noptional = \"no\"\n[[users.alice.mounts]]\nsource = \"b\"\n",
	"env = { PATH = \"/bin\", HOME = \"/x\" }\nhostname = \"" + strings.Repeat("a", 64) + "\"\n",
}

// checkParseResult checks the property both parsers share: no panic, and
// either a *Error naming the file or a result with no error.
func checkParseResult[T any](t *testing.T, name string, result *T, err error) {
	t.Helper()
	if err == nil {
		if result == nil {
			t.Fatal("nil result and nil error")
		}
		return
	}
	if result != nil {
		t.Errorf("result %+v returned with error %v", *result, err)
	}
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %q has type %T, want *policy.Error", err, err)
	}
	if pe.File != name {
		t.Errorf("Error.File = %q, want %q", pe.File, name)
	}
	if pe.Line < 0 {
		t.Errorf("Error.Line = %d, want 0 or more", pe.Line)
	}
}

// checkSettingsInvariants re-checks, on a parsed layer, the rules that the
// parser promises to enforce.
func checkSettingsInvariants(t *testing.T, s *Settings) {
	t.Helper()
	for _, m := range s.Mounts {
		target := m.Target
		if target == "" {
			target = m.Source
		}
		if err := checkMountTarget(string(target)); err != nil {
			t.Errorf("accepted mount %+v: %v", m, err)
		}
	}
	for name := range s.Env {
		if err := checkEnvName(name); err != nil {
			t.Errorf("accepted env name %q: %v", name, err)
		}
	}
	for _, m := range s.Mounts {
		if m.Source == "" {
			t.Errorf("accepted mount %+v without a source", m)
		}
	}
	if s.Hostname != nil {
		if err := checkHostname(string(*s.Hostname)); err != nil {
			t.Errorf("accepted hostname %q: %v", *s.Hostname, err)
		}
	}
}

func FuzzParseFile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseFile("jailsh.toml", data)
		checkParseResult(t, "jailsh.toml", file, err)
		if err != nil {
			return
		}
		if file.Unlisted != UnlistedRefuse && file.Unlisted != UnlistedDefaults {
			t.Errorf("Unlisted = %q, want refuse or defaults", file.Unlisted)
		}
		checkSettingsInvariants(t, &file.Defaults)
		for name, s := range file.Users {
			if err := checkUserName(name); err != nil {
				t.Errorf("accepted user name %q: %v", name, err)
			}
			checkSettingsInvariants(t, &s)
		}
	})
}

func FuzzParseUserFile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseUserFile("users.d/alice.toml", data)
		checkParseResult(t, "users.d/alice.toml", s, err)
		if err == nil {
			checkSettingsInvariants(t, s)
		}
	})
}
