package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jailsh/jailsh/jail"
	"github.com/jailsh/jailsh/policy"
)

const passwdFile = "/etc/passwd"

// runCheck validates the policy folder and every account it would jail,
// or prints one user's effective policy, as `sshd -T` does. The exit
// status is 0 only when the policy is safe to use.
func runCheck(args []string) int {
	fset := flag.NewFlagSet("check", flag.ContinueOnError)
	dir := fset.String("dir", policyDir, "policy `DIR` to check")
	user := fset.String("user", "", "print the effective policy of user `NAME`")
	sshd := fset.Bool("sshd", false, "also check sshd's effective configuration for every jailed account")
	sshdConfigFile := fset.String("sshd-config", "", "sshd configuration `FILE` for --sshd (default: sshd's own)")
	if err := fset.Parse(args); err != nil {
		return parseStatus(err)
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "jailctl check: unexpected argument %q\n", fset.Arg(0))
		return 2
	}
	pol, err := policy.LoadAll(*dir, policy.Options{Trusted: true})
	if err != nil {
		fmt.Fprintf(os.Stderr, "jailctl check: %v\n", err)
		return 1
	}
	if *user != "" {
		return printUser(os.Stdout, pol, *user)
	}

	problems := 0
	report := func(format string, args ...any) {
		problems++
		fmt.Fprintf(os.Stderr, "jailctl check: "+format+"\n", args...)
	}
	names, err := jailedAccounts(pol)
	if err != nil {
		fmt.Fprintf(os.Stderr, "jailctl check: %v\n", err)
		return 1
	}
	for _, name := range names {
		u, err := policy.LookupName(passwdFile, name)
		if err != nil {
			report("%s: %v; remove its entry, or create the account", entryFile(pol, name), err)
			continue
		}
		j, err := pol.Resolve(*u)
		if err != nil {
			report("%v", err)
			continue
		}
		for _, msg := range checkJail(j) {
			report("user %s: %s", name, msg)
		}
		if *sshd {
			cfg, err := effectiveSSHDConfig("/usr/sbin/sshd", *sshdConfigFile, name)
			if err != nil {
				report("%v", err)
				continue
			}
			for _, msg := range sshdFindings(cfg, u.Shell) {
				report("user %s: sshd: %s", name, msg)
			}
		}
	}
	if problems > 0 {
		fmt.Fprintf(os.Stderr, "jailctl check: %d problem(s) in %s\n", problems, *dir)
		return 1
	}
	fmt.Printf("policy %s is valid; %d account(s) checked\n", *dir, len(names))
	return 0
}

// jailedAccounts returns the users the policy names and the accounts whose
// login shell is jailsh.
func jailedAccounts(pol *policy.Policy) ([]string, error) {
	set := map[string]bool{}
	for _, u := range pol.Users() {
		set[u] = true
	}
	f, err := os.Open(passwdFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) == 7 && filepath.Base(fields[6]) == "jailsh" {
			set[fields[0]] = true
		}
	}
	var names []string
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, sc.Err()
}

func entryFile(pol *policy.Policy, name string) string {
	if f, ok := pol.UserNames[name]; ok {
		return f
	}
	return pol.MainName
}

// checkJail returns what would refuse or break a login into j.
func checkJail(j *policy.Jail) []string {
	var msgs []string
	if j.Root != policy.RootTmpfs {
		if fi, err := os.Stat(j.Root); err != nil || !fi.IsDir() {
			return append(msgs, fmt.Sprintf("root filesystem %s is missing or not a folder", j.Root))
		}
		if err := policy.CheckTrustedPath(j.Root); err != nil {
			msgs = append(msgs, "untrusted root filesystem: "+err.Error())
		}
		if _, err := os.Stat(filepath.Join(j.Root, j.Shell)); err != nil && !underMount(j, j.Shell) {
			msgs = append(msgs, fmt.Sprintf("shell %s does not exist in root filesystem %s", j.Shell, j.Root))
		}
	}
	for _, m := range j.Mounts {
		if _, err := os.Stat(string(m.Source)); err != nil && !m.Optional {
			msgs = append(msgs, fmt.Sprintf("mount source %s does not exist; create it or set optional = true", m.Source))
		}
	}
	if j.Home {
		if fi, err := os.Stat(j.User.Home); err != nil || !fi.IsDir() {
			msgs = append(msgs, fmt.Sprintf("home folder %s is missing", j.User.Home))
		}
	}
	return msgs
}

// printUser prints the effective policy of one user and the setup steps
// of the jail it makes.
func printUser(w io.Writer, pol *policy.Policy, name string) int {
	u, err := policy.LookupName(passwdFile, name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "jailctl check: %v\n", err)
		return 1
	}
	j, err := pol.Resolve(*u)
	if err != nil {
		fmt.Fprintf(os.Stderr, "jailctl check: %v\n", err)
		return 1
	}
	fmt.Fprintf(w, "# effective policy of %s (uid %d), from %s\n", u.Name, u.UID, strings.Join(j.Sources, ", "))
	fmt.Fprintf(w, "root = %q\nroot_readonly = %t\nshell = %q\nhostname = %q\nnetwork = %q\nhome = %t\npath = %q\n",
		j.Root, j.RootReadOnly, j.Shell, j.Hostname, j.Network, j.Home, j.Path)
	fmt.Fprintf(w, "keep_env = [%s]\n", quoteList(j.KeepEnv))
	keys := make([]string, 0, len(j.Env))
	for k := range j.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "env.%s = %q\n", k, j.Env[k])
	}
	for _, m := range j.Mounts {
		fmt.Fprintf(w, "mount = { source = %q, target = %q, mode = %q, optional = %t }\n", m.Source, m.Target, m.Mode, m.Optional)
	}
	steps, err := jail.Plan(jail.NewSpec(j, j.Shell, []string{path.Base(j.Shell)}, nil))
	if err != nil {
		fmt.Fprintf(os.Stderr, "jailctl check: %v\n", err)
		return 1
	}
	fmt.Fprintln(w, "# setup steps")
	for _, s := range steps {
		fmt.Fprintln(w, s)
	}
	if msgs := checkJail(j); len(msgs) > 0 {
		for _, m := range msgs {
			fmt.Fprintf(os.Stderr, "jailctl check: user %s: %s\n", name, m)
		}
		return 1
	}
	return 0
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// underMount reports whether path inside the jail lies under one of its
// policy mounts, where the root filesystem alone does not say what is.
func underMount(j *policy.Jail, p string) bool {
	for _, m := range j.Mounts {
		t := string(m.Target)
		if p == t || strings.HasPrefix(p, t+"/") {
			return true
		}
	}
	return false
}
