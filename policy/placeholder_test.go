package policy

import (
	"strings"
	"testing"
)

func TestCheckPathTemplate(t *testing.T) {
	tests := []struct {
		path string
		want string // part of the error; empty when the path is valid
	}{
		{"/srv/homes/%u", ""},
		{"/srv/jails/%U/root", ""},
		{"%h/data", ""},
		{"%h", ""},
		{"/srv/%u-%U/x", ""},
		{"/srv/100%%", ""},
		{"/srv/%x", `unknown placeholder "%x"`},
		{"/srv/%", "lone %"},
		{"/srv/%h", "%h is an absolute path, so it may only start a path"},
		{"srv/%u", "must be absolute"},
		{"/srv/%u/", "must be clean"},
		{"/srv/../%u", "must be clean"},
		{"/srv//%u", "must be clean"},
		{"%h/../etc", "must be clean"},
		{"%u/x", "must be absolute"},
		{"/srv/\x00%u", "NUL byte"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			err := checkPathTemplate(tc.path)
			if tc.want == "" {
				if err != nil {
					t.Errorf("checkPathTemplate(%q) = %v, want nil", tc.path, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("checkPathTemplate(%q) = %v, want an error with %q", tc.path, err, tc.want)
			}
		})
	}
}

func TestExpandTemplate(t *testing.T) {
	alice := User{Name: "alice", UID: 1000, Home: "/home/alice"}
	tests := []struct {
		name string
		tmpl string
		user User
		want string // the expansion, or part of the error after "!"
	}{
		{"no placeholder", "/srv/data", alice, "/srv/data"},
		{"user name", "/srv/homes/%u", alice, "/srv/homes/alice"},
		{"uid", "/srv/jails/%U/root", alice, "/srv/jails/1000/root"},
		{"home", "%h/data", alice, "/home/alice/data"},
		{"home alone", "%h", alice, "/home/alice"},
		{"literal percent", "/srv/100%%/%u", alice, "/srv/100%/alice"},
		{"dotted name", "/srv/%u", User{Name: "first.last", UID: 1}, "/srv/first.last"},
		{"dashed name", "/srv/%u", User{Name: "web-deploy", UID: 1}, "/srv/web-deploy"},
		{"name dot dot", "/srv/homes/%u", User{Name: "..", UID: 1}, `!invalid user name ".."`},
		{"name with slash", "/srv/homes/%u", User{Name: "a/../../etc", UID: 1}, "!invalid user name"},
		{"name dot", "/srv/%u/x", User{Name: ".", UID: 1}, `!invalid user name "."`},
		{"empty name", "/srv/%u", User{Name: "", UID: 1}, "!invalid user name"},
		{"relative home", "%h/x", User{Name: "bob", Home: "home/bob"}, "!is not an absolute, clean path"},
		{"unclean home", "%h/x", User{Name: "bob", Home: "/home/../etc"}, "!is not an absolute, clean path"},
		{"root as home", "%h/x", User{Name: "bob", Home: "/"}, "!is not an absolute, clean path"},
		{"home with dot dot", "%h", User{Name: "bob", Home: "/home/bob/.."}, "!is not an absolute, clean path"},
		{"uid without name check", "/srv/%U", User{Name: "..", UID: 7}, "/srv/7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := expandTemplate(tc.tmpl, tc.user)
			if want, ok := strings.CutPrefix(tc.want, "!"); ok {
				if err == nil {
					t.Fatalf("expandTemplate(%q) = %q, want an error with %q", tc.tmpl, got, want)
				}
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error = %q, want it to contain %q", err, want)
				}
				if !strings.Contains(err.Error(), tc.tmpl) {
					t.Errorf("error = %q, want it to name the path %q", err, tc.tmpl)
				}
				return
			}
			if err != nil {
				t.Fatalf("expandTemplate(%q): %v", tc.tmpl, err)
			}
			if got != tc.want {
				t.Errorf("expandTemplate(%q) = %q, want %q", tc.tmpl, got, tc.want)
			}
		})
	}
}

// A placeholder in root, shell or a mount is expanded by Resolve, and an
// expansion that leaves the path the admin wrote refuses the user.
func TestResolvePlaceholders(t *testing.T) {
	main := `[defaults]
root = "/srv/jails/%u"
shell = "%h/bin/sh"

[[defaults.mounts]]
source = "/srv/data/%U"
target = "/data/%u"

[[defaults.mounts]]
source = "%h/shared"
target = "/tmp/%u-shared"
mode = "rw"

[users.alice]
[users."first.last"]
[users.".."]
`
	p := newPolicy(t, strings.Replace(main, "[users.\"..\"]\n", "", 1), nil)
	j := resolve(t, p, alice)
	if j.Root != "/srv/jails/alice" {
		t.Errorf("Root = %q, want /srv/jails/alice", j.Root)
	}
	if j.Shell != "/home/alice/bin/sh" {
		t.Errorf("Shell = %q, want /home/alice/bin/sh", j.Shell)
	}
	want := []Mount{
		{Source: "/srv/data/1000", Target: "/data/alice", Mode: ReadOnly},
		{Source: "/home/alice/shared", Target: "/tmp/alice-shared", Mode: ReadWrite},
	}
	if len(j.Mounts) != 2 || j.Mounts[0] != want[0] || j.Mounts[1] != want[1] {
		t.Errorf("Mounts = %+v, want %+v", j.Mounts, want)
	}
	if got := j.Origins[MountKey("/data/alice")]; got.Line != 5 {
		t.Errorf("origin of /data/alice = %v, want line 5", got)
	}

	dotted := User{Name: "first.last", UID: 1001, Home: "/home/first.last"}
	if j := resolve(t, p, dotted); j.Root != "/srv/jails/first.last" {
		t.Errorf("Root of first.last = %q, want /srv/jails/first.last", j.Root)
	}

	bad := User{Name: "evil", UID: 1002, Home: "/home/../etc"}
	p = newPolicy(t, "unlisted = \"defaults\"\n[defaults]\nroot = \"/srv/x\"\n\n[[defaults.mounts]]\nsource = \"%h/shared\"\ntarget = \"/srv/shared\"\n", nil)
	_, err := p.Resolve(bad)
	pe := policyError(t, err)
	if pe.File != "/etc/jailsh/jailsh.toml" || pe.Line != 5 || pe.Key != "defaults.mounts" {
		t.Errorf("error at %s:%d key %q, want jailsh.toml:5 key defaults.mounts", pe.File, pe.Line, pe.Key)
	}
	if !strings.Contains(pe.Msg, `home folder "/home/../etc" of user evil`) {
		t.Errorf("Msg = %q, want it to name the home", pe.Msg)
	}
}

// A template that expands to a reserved target or to the host's root is
// caught after expansion, where the parser could not see it.
func TestResolvePlaceholderReserved(t *testing.T) {
	tests := []struct {
		name string
		main string
		user User
		want string
	}{
		{"root is the home, and the home is /", "unlisted = \"defaults\"\n[defaults]\nroot = \"%h\"\n", User{Name: "x", Home: "/"}, "is not an absolute, clean path below /"},
		{"target in /proc through home", "unlisted = \"defaults\"\n[defaults]\nroot = \"/r\"\n[[defaults.mounts]]\nsource = \"/a\"\ntarget = \"%h\"\n", User{Name: "x", Home: "/proc/1"}, `invalid mount target "/proc/1"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j, err := newPolicy(t, tc.main, nil).Resolve(tc.user)
			if err == nil {
				t.Fatalf("Resolve = %+v, want an error", j)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}
