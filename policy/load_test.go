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

// writeFiles creates files under dir. A name ending in / makes a folder.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const loadMainFile = "[defaults]\nroot = \"/srv/jails/x\"\n\n[users.carol]\nhostname = \"carol\"\n"

func TestLoadAll(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"jailsh.toml":               loadMainFile,
		"users.d/alice.toml":        "hostname = \"alice\"\n",
		"users.d/first.last.toml":   "shell = \"/bin/sh\"\n",
		"users.d/README":            "not a policy file",
		"users.d/bob.toml.dpkg-old": "garbage = = =",
	})
	p, err := LoadAll(dir, Options{})
	if err != nil {
		t.Fatalf("LoadAll: %v", err)
	}

	if p.MainName != filepath.Join(dir, "jailsh.toml") {
		t.Errorf("MainName = %q, want %q", p.MainName, filepath.Join(dir, "jailsh.toml"))
	}
	if _, ok := p.Main.Users["carol"]; !ok {
		t.Errorf("main file users = %v, want carol", p.Main.Users)
	}
	if want := []string{"alice", "carol", "first.last"}; !slices.Equal(p.Users(), want) {
		t.Errorf("Users() = %q, want %q", p.Users(), want)
	}
	if h := p.UserFiles["alice"].Hostname; h == nil || *h != "alice" {
		t.Errorf("alice's hostname = %v, want alice", h)
	}
	if got, want := p.UserNames["first.last"], filepath.Join(dir, "users.d", "first.last.toml"); got != want {
		t.Errorf("UserNames[first.last] = %q, want %q", got, want)
	}
	if len(p.UserFiles) != 2 {
		t.Errorf("UserFiles has %d entries, want 2 (alice, first.last): %v", len(p.UserFiles), p.UserFiles)
	}
}

func TestLoadAllNoUsersDir(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"jailsh.toml": loadMainFile})
	p, err := LoadAll(dir, Options{})
	if err != nil {
		t.Fatalf("LoadAll: %v", err)
	}
	if len(p.UserFiles) != 0 {
		t.Errorf("UserFiles = %v, want none", p.UserFiles)
	}
}

func TestLoadAllErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		file  string // Error.File, relative to the folder
		line  int
		msg   string
	}{
		{
			name:  "invalid user file name",
			files: map[string]string{"jailsh.toml": loadMainFile, "users.d/bad name.toml": "hostname = \"x\"\n"},
			file:  "users.d/bad name.toml",
			msg:   "name the file after the user, as NAME.toml",
		},
		{
			name:  "user file named .toml",
			files: map[string]string{"jailsh.toml": loadMainFile, "users.d/.toml": ""},
			file:  "users.d/.toml",
			msg:   `invalid user name ""`,
		},
		{
			name:  "user file with unknown key",
			files: map[string]string{"jailsh.toml": loadMainFile, "users.d/alice.toml": "root = \"/r\"\nhostnme = \"x\"\n"},
			file:  "users.d/alice.toml",
			line:  2,
			msg:   "unknown key",
		},
		{
			name:  "main file with unknown key",
			files: map[string]string{"jailsh.toml": "[defaults]\nrot = \"/r\"\n"},
			file:  "jailsh.toml",
			line:  2,
			msg:   "unknown key",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			p, err := LoadAll(dir, Options{})
			if p != nil {
				t.Errorf("LoadAll returned a policy with the error, want nil")
			}
			pe := policyError(t, err)
			if want := filepath.Join(dir, tc.file); pe.File != want {
				t.Errorf("File = %q, want %q", pe.File, want)
			}
			if pe.Line != tc.line {
				t.Errorf("Line = %d, want %d", pe.Line, tc.line)
			}
			if !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("Msg = %q, want it to contain %q", pe.Msg, tc.msg)
			}
		})
	}
}

func TestLoadAllMissingMain(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"users.d/alice.toml": ""})
	if _, err := LoadAll(dir, Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadAll without jailsh.toml: error %v, want fs.ErrNotExist", err)
	}
}

func TestLoadForUser(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"jailsh.toml":        loadMainFile,
		"users.d/alice.toml": "hostname = \"alice\"\n",
		// A login reads only its own file, so a broken file of another
		// user must not lock alice out.
		"users.d/bob.toml": "this is not TOML",
	})

	p, err := LoadForUser(dir, "alice", Options{})
	if err != nil {
		t.Fatalf("LoadForUser(alice): %v", err)
	}
	if h := p.UserFiles["alice"]; h == nil || h.Hostname == nil || *h.Hostname != "alice" {
		t.Errorf("alice's user file = %+v, want hostname alice", h)
	}
	if want := filepath.Join(dir, "users.d", "alice.toml"); p.UserNames["alice"] != want {
		t.Errorf("UserNames[alice] = %q, want %q", p.UserNames["alice"], want)
	}
	if len(p.UserFiles) != 1 {
		t.Errorf("UserFiles = %v, want alice's only", p.UserFiles)
	}

	p, err = LoadForUser(dir, "carol", Options{})
	if err != nil {
		t.Fatalf("LoadForUser(carol): %v", err)
	}
	if len(p.UserFiles) != 0 {
		t.Errorf("carol has no user file, but UserFiles = %v", p.UserFiles)
	}
	if _, ok := p.Main.Users["carol"]; !ok {
		t.Error("carol's [users.carol] table missing")
	}

	if _, err := LoadForUser(dir, "bob", Options{}); err == nil {
		t.Error("LoadForUser(bob) with a broken bob.toml: error = nil, want one")
	}
}

// A user name that is not valid never turns into a path, so "../x" cannot
// make a login read dir/x.toml.
func TestLoadForUserInvalidName(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"jailsh.toml":    loadMainFile,
		"users.d/":       "",
		"x.toml":         "this is not TOML",
		"users.d/x.toml": "this is not TOML either",
	})
	for _, name := range []string{"../x", "x/", "bad name", ""} {
		p, err := LoadForUser(dir, name, Options{})
		if err != nil {
			t.Errorf("LoadForUser(%q): %v, want the main file only", name, err)
			continue
		}
		if len(p.UserFiles) != 0 {
			t.Errorf("LoadForUser(%q) read user files %v, want none", name, p.UserNames)
		}
	}
}

func TestLoadNotRegular(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"jailsh.toml":         loadMainFile,
		"users.d/alice.toml/": "",
	})
	_, err := LoadForUser(dir, "alice", Options{})
	if err == nil {
		t.Fatal("LoadForUser with users.d/alice.toml a folder: error = nil, want one")
	}
	if !strings.Contains(err.Error(), "alice.toml is not a regular file") {
		t.Errorf("error %q does not say alice.toml is not a regular file", err)
	}

	if _, err := LoadFile(dir, Options{}); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
		t.Errorf("LoadFile on a folder: error %v, want \"is not a regular file\"", err)
	}
}

func TestLoadFileTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jailsh.toml")
	if err := os.WriteFile(path, []byte(strings.Repeat("#", 2*MaxFileSize)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(path, Options{})
	pe := policyError(t, err)
	if pe.File != path {
		t.Errorf("File = %q, want %q", pe.File, path)
	}
	if !strings.Contains(pe.Msg, "larger than the limit") {
		t.Errorf("Msg = %q, want it to name the size limit", pe.Msg)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"demo.toml": loadMainFile, "users.d/alice.toml": "this is not TOML"})
	p, err := LoadFile(filepath.Join(dir, "demo.toml"), Options{})
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	if p.MainName != filepath.Join(dir, "demo.toml") {
		t.Errorf("MainName = %q, want %q", p.MainName, filepath.Join(dir, "demo.toml"))
	}
	if p.UserFiles == nil || len(p.UserFiles) != 0 {
		t.Errorf("UserFiles = %#v, want an empty map (no users.d with LoadFile)", p.UserFiles)
	}
	if p.UserNames == nil {
		t.Error("UserNames = nil, want an empty map")
	}
}

// untrustedAncestor returns the first of dir and its parents that
// CheckTrustedPath rejects, or "" when the whole path is trusted.
func untrustedAncestor(dir string) string {
	for p := dir; ; p = filepath.Dir(p) {
		if lstatTrusted(p) != nil {
			return p
		}
		if p == "/" {
			return ""
		}
	}
}

// The test folder lies under the temporary folder, normally /tmp, which is
// writable by everyone, so a trusted load fails on a folder before it
// reads any file.
func TestLoadTrustedFolder(t *testing.T) {
	dir := t.TempDir()
	bad := untrustedAncestor(dir)
	if bad == "" {
		t.Skipf("every folder of %s is owned by root and not writable by others", dir)
	}
	writeFiles(t, dir, map[string]string{"real.toml": loadMainFile})
	if err := os.Symlink(filepath.Join(dir, "real.toml"), filepath.Join(dir, "jailsh.toml")); err != nil {
		t.Fatal(err)
	}

	loaders := map[string]func() (*Policy, error){
		"LoadAll":     func() (*Policy, error) { return LoadAll(dir, Options{Trusted: true}) },
		"LoadForUser": func() (*Policy, error) { return LoadForUser(dir, "alice", Options{Trusted: true}) },
	}
	for name, load := range loaders {
		t.Run(name, func(t *testing.T) {
			p, err := load()
			if err == nil {
				t.Fatalf("%s with Trusted: policy %+v, want an error", name, p)
			}
			if !strings.Contains(err.Error(), "untrusted policy folder") {
				t.Errorf("error %q does not say the policy folder is untrusted", err)
			}
			if !strings.Contains(err.Error(), bad+" is") {
				t.Errorf("error %q does not name the folder %s", err, bad)
			}
		})
	}

	// Without Trusted the symlink is followed.
	if _, err := LoadAll(dir, Options{}); err != nil {
		t.Errorf("LoadAll without Trusted: %v", err)
	}
}

// LoadFile checks the file itself, so a symlink is rejected whatever the
// folders above it are.
func TestLoadFileTrustedSymlink(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"real.toml": loadMainFile})
	link := filepath.Join(dir, "jailsh.toml")
	if err := os.Symlink(filepath.Join(dir, "real.toml"), link); err != nil {
		t.Fatal(err)
	}

	_, err := LoadFile(link, Options{Trusted: true})
	if err == nil {
		t.Fatal("LoadFile(symlink, Trusted) error = nil, want one")
	}
	if !strings.Contains(err.Error(), "untrusted policy file: "+link+" is a symlink") {
		t.Errorf("error %q does not name the symlink %s", err, link)
	}

	if _, err := LoadFile(link, Options{}); err != nil {
		t.Errorf("LoadFile(symlink) without Trusted: %v", err)
	}
}

func TestLoadFileTrustedMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "jailsh.toml")
	if _, err := LoadFile(missing, Options{Trusted: true}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadFile(missing, Trusted) error = %v, want fs.ErrNotExist", err)
	}
}
