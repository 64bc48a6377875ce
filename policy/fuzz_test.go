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
	"group_order = [\"staff\"]\n[groups.staff]\nenv_remove = [\"A\"]\nkeep_env_remove = [\"TERM\"]\nmounts_remove = [\"/srv/%u\"]\n",
	"[defaults]\nroot = \"/srv/%u/%U\"\n[[groups.\"first.last\".mounts]]\nsource = \"%h/x\"\ntarget = \"/srv/%x\"\n",
	"x = " + strings.Repeat("{ a = ", 20) + "1" + strings.Repeat("}", 20) + "\n",
	strings.Repeat("a.", 20) + "b = 1\n",
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
		if err := checkPathTemplate(string(target)); err != nil {
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
		for name, s := range file.Groups {
			if err := checkGroupName(name); err != nil {
				t.Errorf("accepted group name %q: %v", name, err)
			}
			checkSettingsInvariants(t, &s)
		}
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

var mergeSeeds = []struct{ main, group, user string }{
	{"[defaults]\nroot = \"/r\"\n[groups.staff]\nhostname = \"a\"\n", "hostname = \"b\"\n", ""},
	{"group_order = [\"staff\", \"students\"]\n[defaults]\nroot = \"/srv/%u\"\n[groups.staff]\nenv = { A = \"1\" }\n", "env_remove = [\"A\"]\n", "env = { A = \"2\" }\n"},
	{"[defaults]\nroot = \"tmpfs\"\nkeep_env = [\"TERM\", \"LANG\"]\n[[defaults.mounts]]\nsource = \"%h/data\"\ntarget = \"/data\"\n", "keep_env_remove = [\"TERM\"]\nmounts_remove = [\"/data\"]\n", "keep_env = [\"TZ\"]\n"},
	{"[defaults]\nroot = \"/r\"\n[[groups.staff.mounts]]\nsource = \"/a\"\ntarget = \"/m/sub\"\n", "[[mounts]]\nsource = \"/b\"\ntarget = \"/m\"\nmode = \"rw\"\n", "mounts_remove = [\"/m/sub\"]\n"},
	{"unlisted = \"defaults\"\n", "", ""},
	{"[defaults]\nroot = \"/srv/100%%/%U\"\nshell = \"%h/sh\"\n", "keep_env = []\n", "[[mounts]]\nsource = \"/srv/%u\"\ntarget = \"/tmp/%u\"\n"},
}

// FuzzResolve merges a main file, a groups.d file for alice's group
// students and alice's users.d file, for users whose names and homes are
// also fuzzed. Resolve must not panic, must return a jail or an error,
// and a jail must keep the rules that the parser and the merge promise.
func FuzzResolve(f *testing.F) {
	for _, s := range mergeSeeds {
		f.Add([]byte(s.main), []byte(s.group), []byte(s.user), "alice", "/home/alice")
		f.Add([]byte(s.main), []byte(s.group), []byte(s.user), "..", "/home/../etc")
	}
	db, err := ParseGroups(strings.NewReader(testGroupDB))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, main, group, user []byte, name, home string) {
		file, err := ParseFile("jailsh.toml", main)
		if err != nil {
			return
		}
		p := &Policy{MainName: "jailsh.toml", Main: file, GroupDB: db,
			UserFiles: map[string]*Settings{}, UserNames: map[string]string{},
			GroupFiles: map[string]*Settings{}, GroupNames: map[string]string{}}
		if s, err := ParseGroupFile("groups.d/students.toml", group); err == nil {
			p.GroupFiles["students"], p.GroupNames["students"] = s, "groups.d/students.toml"
		}
		if s, err := ParseUserFile("users.d/alice.toml", user); err == nil {
			p.UserFiles[name], p.UserNames[name] = s, "users.d/alice.toml"
		}
		u := User{Name: name, UID: 1000, GID: 1000, Home: home}
		j, err := p.Resolve(u)
		if err != nil {
			if j != nil {
				t.Errorf("Resolve returned %+v with error %v", j, err)
			}
			return
		}
		checkJailInvariants(t, j)
	})
}

// checkJailInvariants checks an effective policy: every path is
// absolute and clean, no placeholder is left, no mount target is
// reserved or listed twice, and every value has an origin.
func checkJailInvariants(t *testing.T, j *Jail) {
	t.Helper()
	paths := []string{j.Shell}
	if j.Root != RootTmpfs {
		paths = append(paths, j.Root)
		if j.Root == "/" {
			t.Error("accepted the host's root as the jail's root")
		}
	}
	targets := map[AbsPath]bool{}
	for _, m := range j.Mounts {
		paths = append(paths, string(m.Source), string(m.Target))
		if err := checkMountTarget(string(m.Target)); err != nil {
			t.Errorf("accepted mount %+v: %v", m, err)
		}
		if targets[m.Target] {
			t.Errorf("mount target %s listed twice", m.Target)
		}
		targets[m.Target] = true
		if m.Mode != ReadOnly && m.Mode != ReadWrite {
			t.Errorf("mount %+v has no mode", m)
		}
		if _, ok := j.Origins[MountKey(string(m.Target))]; !ok {
			t.Errorf("mount on %s has no origin", m.Target)
		}
	}
	for _, p := range paths {
		if err := checkAbsPath(p); err != nil {
			t.Errorf("effective path: %v", err)
		}
	}
	for name := range j.Env {
		if err := checkEnvName(name); err != nil {
			t.Errorf("accepted env name %q: %v", name, err)
		}
	}
	if err := checkHostname(j.Hostname); err != nil {
		t.Errorf("effective hostname: %v", err)
	}
	if j.Network != NetworkNone && j.Network != NetworkHost {
		t.Errorf("Network = %q", j.Network)
	}
	for _, k := range []string{"root", "shell", "hostname", "network", "path"} {
		if _, ok := j.Origins[k]; !ok {
			t.Errorf("%s has no origin", k)
		}
	}
}
