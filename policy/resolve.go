package policy

import (
	"fmt"
	"maps"
	"slices"
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
	Mounts       []Mount  // Target and Mode always set
	Sources      []string // policy files that made up this jail, in order
}

// Resolve computes the effective policy of u. Layers apply in a fixed
// order, each overriding the one before: [defaults], then [users.NAME] in
// the main file, then users.d/NAME.toml. Mounts add up, and a later mount
// on the same target replaces an earlier one in its place.
func (p *Policy) Resolve(u User) (*Jail, error) {
	layers := []Settings{p.Main.Defaults}
	sources := []string{p.MainName}
	s, inMain := p.Main.Users[u.Name]
	if inMain {
		layers = append(layers, s)
	}
	if us, ok := p.UserFiles[u.Name]; ok {
		layers = append(layers, *us)
		sources = append(sources, p.UserNames[u.Name])
	}
	if len(layers) == 1 && p.Main.Unlisted != UnlistedDefaults {
		return nil, fmt.Errorf("user %s has no entry in the policy: add [users.%s] to %s or a file %s/%s.toml, or set unlisted = \"defaults\"",
			u.Name, u.Name, p.MainName, UsersDir, u.Name)
	}

	j := &Jail{
		User:         u,
		RootReadOnly: true,
		Shell:        "/bin/bash",
		Hostname:     "jail",
		Network:      NetworkNone,
		Home:         true,
		Path:         DefaultPath,
		KeepEnv:      slices.Clone(DefaultKeepEnv),
		Env:          map[string]string{},
		Sources:      sources,
	}
	for _, l := range layers {
		j.apply(l)
	}
	if j.Root == "" {
		return nil, fmt.Errorf("user %s has no root filesystem: set root in [defaults] or in the user's entry in %s", u.Name, p.MainName)
	}
	return j, nil
}

func (j *Jail) apply(s Settings) {
	if s.Root != nil {
		j.Root = string(*s.Root)
	}
	if s.RootReadOnly != nil {
		j.RootReadOnly = *s.RootReadOnly
	}
	if s.Shell != nil {
		j.Shell = string(*s.Shell)
	}
	if s.Hostname != nil {
		j.Hostname = string(*s.Hostname)
	}
	if s.Network != nil {
		j.Network = *s.Network
	}
	if s.Home != nil {
		j.Home = *s.Home
	}
	if s.Path != nil {
		j.Path = *s.Path
	}
	if s.KeepEnv != nil {
		j.KeepEnv = slices.Clone(s.KeepEnv)
	}
	j.Env = maps.Clone(j.Env)
	maps.Copy(j.Env, s.Env)
	for _, m := range s.Mounts {
		j.addMount(m)
	}
}

// addMount fills in the defaults of m and adds it to the jail. A mount on a
// target already in the list replaces that mount in its place, because
// moving it to the end could bind /data over an earlier /data/sub and hide
// it.
func (j *Jail) addMount(m Mount) {
	if m.Target == "" {
		m.Target = m.Source
	}
	if m.Mode == "" {
		m.Mode = ReadOnly
	}
	i := slices.IndexFunc(j.Mounts, func(old Mount) bool { return old.Target == m.Target })
	if i < 0 {
		j.Mounts = append(j.Mounts, m)
		return
	}
	j.Mounts[i] = m
}
