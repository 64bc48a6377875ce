package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Jail is one user's effective policy, with every default filled in.
type Jail struct {
	User         User
	Root         string // absolute path, or RootTmpfs
	RootReadOnly bool
	Shell        string
	Hostname     string
	Network      Network
	Home         bool // bind the user's home at the same path
	Path         string
	KeepEnv      []string
	Env          map[string]string
	Mounts       []Mount // Target and Mode always set
	Session      SessionMode
	Linger       time.Duration // how long a shared jail outlives its last session
	Sources      []string      // policy files that made up this jail, in order
	// Hardening of the jail's processes; see harden.go.
	Seccomp         bool
	SyscallsDenied  []string
	SyscallsAllowed []string
	Capabilities    []string // kept in the bounding set
	UserNamespaces  int      // nested user namespaces the jail may create
	KeepUID         bool     // the user keeps their own uid inside
	// Limits holds the keys under [limits] that a layer sets. RLIMIT_NPROC
	// (processes) counts the user's processes in the jail's user namespace
	// on Linux 5.14 and later, and every process of the uid before.
	Limits map[string]int64

	// Groups are the user's groups that have settings in the policy, in
	// the order they apply.
	Groups []string
	// Origins holds where each value was set, by key: the key of Settings
	// for a scalar, and EnvKey, KeepEnvKey or MountKey for an entry. A
	// built-in default has the zero Place.
	Origins map[string]Place
}

// builtinDefaults are the values of a key that no layer sets.
func builtinDefaults() *Settings {
	readOnly, home, seccomp := true, true, true
	shell, hostname, network, path := AbsPath("/bin/bash"), Hostname("jail"), NetworkNone, DefaultPath
	denied, allowed := SyscallList(slices.Clone(DefaultDeniedSyscalls)), SyscallList{}
	caps, userns, uid := CapabilityList(slices.Clone(DefaultCapabilities)), Count(0), UIDRoot
	session, linger := SessionPrivate, Linger(0)
	return &Settings{
		Seccomp:         &seccomp,
		SyscallsDenied:  &denied,
		SyscallsAllowed: &allowed,
		Capabilities:    &caps,
		UserNamespaces:  &userns,
		UID:             &uid,
		RootReadOnly:    &readOnly,
		Shell:           &shell,
		Hostname:        &hostname,
		Network:         &network,
		Home:            &home,
		Path:            &path,
		Session:         &session,
		Linger:          &linger,
		KeepEnv:         slices.Clone(DefaultKeepEnv),
	}
}

// Resolve computes the effective policy of u. Layers apply in a fixed
// order: jailsh's built-in defaults, [defaults], the user's groups, then
// [users.NAME] in the main file, then users.d/NAME.toml. A group's
// settings are its [groups.NAME] table, then its groups.d file. Where
// two groups disagree on a value, the group later in group_order wins if
// both are listed. Otherwise Resolve returns an error that names both
// places, unless the user's own layers set that value.
func (p *Policy) Resolve(u User) (*Jail, error) {
	if err := p.checkBroken(u); err != nil {
		return nil, err
	}
	groups, err := p.groupsWithSettings(u)
	if err != nil {
		return nil, err
	}
	userTable, inMain := p.Main.Users[u.Name]
	userFile, hasFile := p.UserFiles[u.Name]
	if !inMain && !hasFile && len(groups) == 0 && p.Main.Unlisted != UnlistedDefaults {
		return nil, fmt.Errorf("user %s has no entry in the policy: add [users.%s] to %s or a file %s/%s.toml, add [groups.NAME] for one of the user's groups, or set unlisted = \"defaults\"",
			u.Name, u.Name, p.MainName, UsersDir, u.Name)
	}

	st := newState()
	sources := []string{p.MainName}
	for _, s := range []*Settings{builtinDefaults(), &p.Main.Defaults} {
		o, err := flatten(s, u)
		if err != nil {
			return nil, err
		}
		st.apply(o)
	}

	var layers []*groupLayer
	for _, g := range groups {
		gl := &groupLayer{name: g, rank: slices.Index(p.Main.GroupOrder, g)}
		var settings []*Settings
		if s, ok := p.Main.Groups[g]; ok {
			settings = append(settings, &s)
		}
		if s, ok := p.GroupFiles[g]; ok {
			settings = append(settings, s)
			sources = append(sources, p.GroupNames[g])
		}
		for _, s := range settings {
			o, err := flatten(s, u)
			if err != nil {
				return nil, err
			}
			gl.ops = append(gl.ops, o)
		}
		layers = append(layers, gl)
	}
	st, conflicts := mergeGroups(st, layers)

	var userLayers []*Settings
	if inMain {
		userLayers = append(userLayers, &userTable)
	}
	if hasFile {
		userLayers = append(userLayers, userFile)
		sources = append(sources, p.UserNames[u.Name])
	}
	var decided []string // keys, and prefixes ending in '.', that the user's layers set
	for _, s := range userLayers {
		o, err := flatten(s, u)
		if err != nil {
			return nil, err
		}
		decided = append(decided, st.apply(o)...)
		for _, c := range o.clear {
			decided = append(decided, c.key)
		}
	}
	var errs []error
	for _, c := range conflicts {
		if !slices.ContainsFunc(decided, func(k string) bool { return k == c.key || strings.HasSuffix(k, ".") && strings.HasPrefix(c.key, k) }) {
			errs = append(errs, conflictError(c, u, p.MainName))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	j := &Jail{User: u, Env: map[string]string{}, Sources: sources, Groups: groups, Origins: map[string]Place{}}
	j.fill(st)
	if j.Root == "" {
		return nil, fmt.Errorf("user %s has no root filesystem: set root in [defaults] or in the user's entry in %s", u.Name, p.MainName)
	}
	if err := checkMountOrder(j); err != nil {
		return nil, err
	}
	return j, nil
}

// fill sets the jail's fields from the items of st, in their order.
func (j *Jail) fill(st *state) {
	for _, k := range st.order {
		it := st.items[k]
		j.Origins[k] = it.place
		name, entry, _ := strings.Cut(k, ".")
		switch name {
		case "root":
			j.Root = string(it.value.(RootPath))
		case "root_readonly":
			j.RootReadOnly = it.value.(bool)
		case "shell":
			j.Shell = string(it.value.(AbsPath))
		case "hostname":
			j.Hostname = string(it.value.(Hostname))
		case "network":
			j.Network = it.value.(Network)
		case "home":
			j.Home = it.value.(bool)
		case "path":
			j.Path = it.value.(string)
		case "session":
			j.Session = it.value.(SessionMode)
		case "linger":
			j.Linger = time.Duration(it.value.(Linger))
		case "seccomp":
			j.Seccomp = it.value.(bool)
		case "syscalls_denied":
			j.SyscallsDenied = slices.Clone(it.value.(SyscallList))
		case "syscalls_allowed":
			j.SyscallsAllowed = slices.Clone(it.value.(SyscallList))
		case "capabilities":
			j.Capabilities = slices.Clone(it.value.(CapabilityList))
		case "user_namespaces":
			j.UserNamespaces = int(it.value.(Count))
		case "uid":
			j.KeepUID = it.value.(UIDMode) == UIDUser
		case "limits":
			if j.Limits == nil {
				j.Limits = map[string]int64{}
			}
			j.Limits[entry] = int64(it.value.(Count))
		case "keep_env":
			j.KeepEnv = append(j.KeepEnv, entry)
		case "env":
			j.Env[entry] = it.value.(string)
		case "mounts":
			j.Mounts = append(j.Mounts, it.value.(Mount))
		}
	}
	if j.KeepEnv == nil {
		j.KeepEnv = []string{}
	}
}

// checkMountOrder rejects a mount that covers an earlier one: binding
// /data after /data/sub would hide /data/sub. A later layer that adds
// /data can move /data/sub after it by removing it and adding it again.
func checkMountOrder(j *Jail) error {
	for i, m := range j.Mounts {
		for _, later := range j.Mounts[i+1:] {
			t := string(later.Target)
			if t == "/" || !strings.HasPrefix(string(m.Target), t+"/") {
				continue
			}
			p := j.Origins[MountKey(t)]
			return &Error{File: p.File, Line: p.Line, Key: p.Key, Msg: fmt.Sprintf(
				"the mount on %s covers the mount on %s from %s, which comes before it and would be hidden; in this table, remove the mount on %s with mounts_remove and add it again after the mount on %s",
				t, m.Target, j.Origins[MountKey(string(m.Target))], m.Target, t)}
		}
	}
	return nil
}

// groupsWithSettings returns the groups of u that have a table or a file
// in the policy, in the order they apply: first those that group_order
// does not list, by name, then those it lists, in its order.
func (p *Policy) groupsWithSettings(u User) ([]string, error) {
	if p.scope != nil && p.scope.user != u.Name {
		return nil, fmt.Errorf("policy was loaded for user %s and cannot resolve user %s; load it with LoadAll", p.scope.user, u.Name)
	}
	if len(p.Main.Groups) == 0 && len(p.GroupFiles) == 0 && p.GroupDB == nil {
		return nil, nil
	}
	if p.GroupDB == nil {
		return nil, fmt.Errorf("policy %s has group settings, but no group database was read; load the policy with LoadAll, LoadForUser or LoadFile", p.MainName)
	}
	var unordered, ordered []string
	for _, g := range p.GroupDB.GroupsOf(u.Name, u.GID) {
		if p.scope != nil && !p.scope.groups[g] {
			return nil, fmt.Errorf("group %s of user %s was not read with the policy; check the passwd and group databases for duplicate entries of %s", g, u.Name, u.Name)
		}
		_, inMain := p.Main.Groups[g]
		_, hasFile := p.GroupFiles[g]
		switch {
		case !inMain && !hasFile:
		case slices.Contains(p.Main.GroupOrder, g):
			ordered = append(ordered, g)
		default:
			unordered = append(unordered, g)
		}
	}
	slices.Sort(unordered)
	slices.SortFunc(ordered, func(a, b string) int {
		return slices.Index(p.Main.GroupOrder, a) - slices.Index(p.Main.GroupOrder, b)
	})
	return append(unordered, ordered...), nil
}
