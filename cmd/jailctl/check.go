package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/jailsh/jailsh/jail"
	"github.com/jailsh/jailsh/policy"
)

const (
	passwdFile = "/etc/passwd"
	groupFile  = "/etc/group"
)

// runCheck validates the policy folder and every account it would jail,
// or prints one user's effective policy, as `sshd -T` does. The exit
// status is 0 only when the policy is safe to use.
func runCheck(args []string) int {
	fset := newFlagSet("jailctl check")
	dir := fset.String("dir", policyDir, "policy `DIR` to check")
	user := fset.String("user", "", "print the effective policy of user `NAME`")
	sshd := fset.Bool("sshd", false, "also check sshd's effective configuration for every jailed account")
	sshdConfigFile := fset.String("sshd-config", "", "sshd configuration `FILE` for --sshd (default: sshd's own)")
	if err := fset.Parse(args); err != nil {
		return parseStatus(fset, err)
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "jailctl check: unexpected argument %q\n", fset.Arg(0))
		return 2
	}
	opts := policy.Options{Trusted: true, GroupFile: groupFile, PasswdFile: passwdFile}
	if *user != "" {
		// The files a login of the user reads, and no others.
		pol, err := policy.LoadForUser(*dir, *user, opts)
		if err != nil {
			fmt.Fprintf(os.Stderr, "jailctl check: %v\n", err)
			return 1
		}
		return printUser(os.Stdout, pol, *dir, *user)
	}

	problems := 0
	report := func(format string, args ...any) {
		problems++
		fmt.Fprintf(os.Stderr, "jailctl check: "+format+"\n", args...)
	}
	// Every file is checked, and then every account that no broken file
	// concerns, so that one run lists everything to fix.
	pol, errs := policy.LoadAllReport(*dir, opts)
	for _, e := range errs {
		report("%v", e)
	}
	if pol == nil {
		fmt.Fprintf(os.Stderr, "jailctl check: %d problem(s) in %s\n", problems, *dir)
		return 1
	}
	for _, g := range pol.Groups() {
		// Without a group database, its read error is reported above.
		if _, ok := pol.GroupDB.Lookup(g); !ok && pol.GroupDB != nil {
			report("%s: group %s has no entry in %s; remove its settings, or create the group", pol.GroupPlace(g), g, groupFile)
		}
	}
	names, err := jailedAccounts(pol)
	if err != nil {
		fmt.Fprintf(os.Stderr, "jailctl check: %v\n", err)
		return 1
	}
	reported := map[string]bool{}
	for _, name := range names {
		u, err := policy.LookupName(passwdFile, name)
		if err != nil {
			report("%s: %v; remove its entry, or create the account", entryFile(pol, name), err)
			continue
		}
		j, err := pol.Resolve(*u)
		if errors.Is(err, policy.ErrBrokenFile) {
			// The broken file is reported above.
			continue
		}
		if err != nil {
			for _, e := range splitErrors(err) {
				report("%v", e)
			}
			continue
		}
		for _, msg := range checkJail(j, *dir, pol.GroupDB) {
			// A path that fails for many users, such as a shared root
			// filesystem, is reported for the first of them.
			if !reported[msg] {
				reported[msg] = true
				report("user %s: %s", name, msg)
			}
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

// entryFile returns the file that holds the entry of user name.
func entryFile(pol *policy.Policy, name string) string {
	if f, ok := pol.UserNames[name]; ok {
		return f
	}
	return pol.MainName
}

// checkJail returns what would refuse or break a login into j, with the
// policy in dir and the groups of db.
func checkJail(j *policy.Jail, dir string, db *policy.GroupDB) []string {
	var msgs []string
	// The login reads the policy and reaches the jail's files as the user.
	if db == nil {
		// A policy without group settings did not read the group file.
		db, _ = policy.ReadGroupFile(groupFile)
	}
	id := newIdentity(&j.User, db)
	reach := func(path string, read bool) {
		if msg := reachProblem(id, path, read); msg != "" {
			msgs = append(msgs, msg)
		}
	}
	for _, sub := range []string{policy.UsersDir, policy.GroupsDir} {
		reach(filepath.Join(dir, sub), false)
	}
	for _, f := range j.Sources {
		reach(f, true)
	}
	if j.Root != policy.RootTmpfs {
		if fi, err := os.Stat(j.Root); err != nil || !fi.IsDir() {
			return append(msgs, fmt.Sprintf("root filesystem %s is missing or not a folder; create it, or correct root at %s", j.Root, j.Origins["root"]))
		}
		if err := policy.CheckTrustedPath(j.Root); err != nil {
			msgs = append(msgs, "untrusted root filesystem: "+err.Error())
		}
		reach(j.Root, false)
		if _, err := os.Stat(filepath.Join(j.Root, j.Shell)); err != nil && !underMount(j, j.Shell) {
			msgs = append(msgs, fmt.Sprintf("shell %s does not exist in root filesystem %s", j.Shell, j.Root))
		}
	}
	for _, m := range j.Mounts {
		if _, err := os.Stat(string(m.Source)); err != nil && !m.Optional {
			msgs = append(msgs, fmt.Sprintf("mount source %s does not exist; create it or set optional = true", m.Source))
		}
		reach(filepath.Dir(string(m.Source)), false)
	}
	if j.Home {
		if fi, err := os.Stat(j.User.Home); err != nil || !fi.IsDir() {
			msgs = append(msgs, fmt.Sprintf("home folder %s is missing", j.User.Home))
		}
		reach(j.User.Home, false)
	}
	return msgs
}

// printUser prints the effective policy of one user, with the place each
// value came from, and the setup steps of the jail it makes.
func printUser(w io.Writer, pol *policy.Policy, dir, name string) int {
	u, err := policy.LookupName(passwdFile, name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "jailctl check: %v\n", err)
		return 1
	}
	if u.UID == 0 {
		// jailsh refuses uid 0 whatever the policy sets.
		fmt.Fprintf(os.Stderr, "jailctl check: user %s has uid 0, and jailsh never jails root; give root another login shell\n", name)
		return 1
	}
	j, err := pol.Resolve(*u)
	if err != nil {
		for _, e := range splitErrors(err) {
			fmt.Fprintf(os.Stderr, "jailctl check: %v\n", e)
		}
		return 1
	}
	writeEffective(w, j)
	steps, err := jail.Plan(jail.NewSpec(j, j.Shell, []string{path.Base(j.Shell)}, nil))
	if err != nil {
		fmt.Fprintf(os.Stderr, "jailctl check: %v\n", err)
		return 1
	}
	fmt.Fprintln(w, "# setup steps")
	for _, s := range steps {
		fmt.Fprintln(w, s)
	}
	if msgs := checkJail(j, dir, pol.GroupDB); len(msgs) > 0 {
		for _, m := range msgs {
			fmt.Fprintf(os.Stderr, "jailctl check: user %s: %s\n", name, m)
		}
		return 1
	}
	return 0
}

// writeEffective prints j's values, one per line, each followed by a
// comment with the file and line it came from, or "default".
func writeEffective(w io.Writer, j *policy.Jail) {
	fmt.Fprintf(w, "# effective policy of %s (uid %d), from %s\n", j.User.Name, j.User.UID, strings.Join(j.Sources, ", "))
	if len(j.Groups) > 0 {
		fmt.Fprintf(w, "# groups with settings, in the order they apply: %s\n", strings.Join(j.Groups, ", "))
	}

	line := func(key, text string) {
		fmt.Fprintf(w, "%s  # %s\n", text, j.Origins[key])
	}
	line("root", fmt.Sprintf("root = %q", j.Root))
	line("root_readonly", fmt.Sprintf("root_readonly = %t", j.RootReadOnly))
	line("shell", fmt.Sprintf("shell = %q", j.Shell))
	line("hostname", fmt.Sprintf("hostname = %q", j.Hostname))
	line("network", fmt.Sprintf("network = %q", j.Network))
	line("home", fmt.Sprintf("home = %t", j.Home))
	line("path", fmt.Sprintf("path = %q", j.Path))
	line("session", fmt.Sprintf("session = %q", j.Session))
	line("linger", fmt.Sprintf("linger = %q", j.Linger))
	if j.Linger > 0 && j.Session != policy.SessionShared {
		fmt.Fprintln(w, "# note: linger has no effect with session = \"private\"")
	}

	if len(j.KeepEnv) == 0 {
		fmt.Fprintln(w, "keep_env = []")
	} else {
		fmt.Fprintln(w, "keep_env = [")
		for _, p := range j.KeepEnv {
			line(policy.KeepEnvKey(p), fmt.Sprintf("  %q,", p))
		}
		fmt.Fprintln(w, "]")
	}

	keys := make([]string, 0, len(j.Env))
	for k := range j.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		line(policy.EnvKey(k), fmt.Sprintf("env.%s = %q", k, j.Env[k]))
	}

	for _, m := range j.Mounts {
		line(policy.MountKey(string(m.Target)), fmt.Sprintf("mount = { source = %q, target = %q, mode = %q, optional = %t }", m.Source, m.Target, m.Mode, m.Optional))
	}

	line("seccomp", fmt.Sprintf("seccomp = %t", j.Seccomp))
	line("syscalls_denied", fmt.Sprintf("syscalls_denied = [%s]", quoteList(j.SyscallsDenied)))
	line("syscalls_allowed", fmt.Sprintf("syscalls_allowed = [%s]", quoteList(j.SyscallsAllowed)))
	line("capabilities", fmt.Sprintf("capabilities = [%s]", quoteList(j.Capabilities)))
	line("user_namespaces", fmt.Sprintf("user_namespaces = %d", j.UserNamespaces))
	uid := policy.UIDRoot
	if j.KeepUID {
		uid = policy.UIDUser
	}
	line("uid", fmt.Sprintf("uid = %q", uid))
	limitKeys := make([]string, 0, len(j.Limits))
	for k := range j.Limits {
		limitKeys = append(limitKeys, k)
	}
	sort.Strings(limitKeys)
	for _, k := range limitKeys {
		line("limits."+k, fmt.Sprintf("limits.%s = %d", k, j.Limits[k]))
	}
	for _, weak := range j.Weakenings() {
		fmt.Fprintf(w, "# warning: weaker than jailsh's default: %s\n", weak)
	}
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// splitErrors returns the errors that errors.Join joined in err, or err.
func splitErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
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
