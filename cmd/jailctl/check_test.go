package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/jailsh/jailsh/policy"
)

// TestWriteEffectiveNamesOrigins guards against check --user printing a
// value without the file and line it came from.
func TestWriteEffectiveNamesOrigins(t *testing.T) {
	const main = `[defaults]
root = "/srv/jails/%u"
keep_env = ["TERM", "LANG"]

[[defaults.mounts]]
source = "/srv/docs"

[users.alice]
hostname = "web1"
env = { EDITOR = "vi" }
keep_env_remove = ["LANG"]
`
	f, err := policy.ParseFile("/etc/jailsh/jailsh.toml", []byte(main))
	if err != nil {
		t.Fatal(err)
	}
	user, err := policy.ParseUserFile("/etc/jailsh/users.d/alice.toml", []byte("\n[[mounts]]\nsource = \"%h/data\"\ntarget = \"/data\"\nmode = \"rw\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := &policy.Policy{MainName: "/etc/jailsh/jailsh.toml", Main: f,
		UserFiles: map[string]*policy.Settings{"alice": user}, UserNames: map[string]string{"alice": "/etc/jailsh/users.d/alice.toml"}}
	j, err := p.Resolve(policy.User{Name: "alice", UID: 1000, GID: 1000, Home: "/home/alice"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	writeEffective(&b, j)
	out := b.String()
	for _, want := range []string{
		"# effective policy of alice (uid 1000), from /etc/jailsh/jailsh.toml, /etc/jailsh/users.d/alice.toml\n",
		`root = "/srv/jails/alice"  # /etc/jailsh/jailsh.toml:2` + "\n",
		`hostname = "web1"  # /etc/jailsh/jailsh.toml:9` + "\n",
		`shell = "/bin/bash"  # default` + "\n",
		"keep_env = [\n  \"TERM\",  # /etc/jailsh/jailsh.toml:3\n]\n",
		`env.EDITOR = "vi"  # /etc/jailsh/jailsh.toml:10` + "\n",
		`mount = { source = "/srv/docs", target = "/srv/docs", mode = "ro", optional = false }  # /etc/jailsh/jailsh.toml:5` + "\n",
		`mount = { source = "/home/alice/data", target = "/data", mode = "rw", optional = false }  # /etc/jailsh/users.d/alice.toml:2` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "LANG") {
		t.Errorf("output lists LANG, which alice's entry removes:\n%s", out)
	}
}

func TestSplitErrors(t *testing.T) {
	a, b := errors.New("a"), errors.New("b")
	if got := splitErrors(errors.Join(a, b)); len(got) != 2 || got[0] != a || got[1] != b {
		t.Errorf("splitErrors(Join(a, b)) = %v, want [a b]", got)
	}
	if got := splitErrors(a); len(got) != 1 || got[0] != a {
		t.Errorf("splitErrors(a) = %v, want [a]", got)
	}
}
