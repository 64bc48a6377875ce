package policy

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// The merge turns layers of Settings into one effective policy. Each layer
// is first flattened into ops on items: a scalar key ("root"), or one
// entry of a table or list key ("env.EDITOR", "keep_env.LC_*",
// "mounts./data"). A later layer replaces an item or removes it.

// item is one value of an effective policy and the place that set it.
type item struct {
	key   string
	value any
	place Place
}

// ops are the changes of one layer to the items before it. It first
// clears every item under each prefix in clear (a list key that the layer
// replaces whole), then removes the items of remove, then sets those of set.
type ops struct {
	clear  []item // key is a prefix such as "keep_env."; value is unused
	remove []item
	set    []item
}

// settingKey turns one key of Settings into ops. Every key of Settings
// has one, so that a new key needs one line in settingKeys.
type settingKey struct {
	name    string
	flatten func(s *Settings, u User, o *ops) error
}

var settingKeys = []settingKey{
	scalar("root", func(s *Settings) *RootPath { return s.Root }),
	scalar("root_readonly", func(s *Settings) *bool { return s.RootReadOnly }),
	scalar("shell", func(s *Settings) *AbsPath { return s.Shell }),
	scalar("hostname", func(s *Settings) *Hostname { return s.Hostname }),
	scalar("network", func(s *Settings) *Network { return s.Network }),
	scalar("home", func(s *Settings) *bool { return s.Home }),
	scalar("path", func(s *Settings) *string { return s.Path }),
	scalar("session", func(s *Settings) *SessionMode { return s.Session }),
	scalar("linger", func(s *Settings) *Linger { return s.Linger }),
	scalar("seccomp", func(s *Settings) *bool { return s.Seccomp }),
	scalar("syscalls_denied", func(s *Settings) *SyscallList { return s.SyscallsDenied }),
	scalar("syscalls_allowed", func(s *Settings) *SyscallList { return s.SyscallsAllowed }),
	scalar("capabilities", func(s *Settings) *CapabilityList { return s.Capabilities }),
	scalar("user_namespaces", func(s *Settings) *Count { return s.UserNamespaces }),
	scalar("uid", func(s *Settings) *UIDMode { return s.UID }),
	scalar("limits.processes", limitField(func(l *Limits) *Count { return l.Processes })),
	scalar("limits.open_files", limitField(func(l *Limits) *Count { return l.OpenFiles })),
	scalar("limits.file_size", limitField(func(l *Limits) *Count { return l.FileSize })),
	scalar("limits.cpu_time", limitField(func(l *Limits) *Count { return l.CPUTime })),
	scalar("limits.address_space", limitField(func(l *Limits) *Count { return l.AddressSpace })),
	scalar("limits.core", limitField(func(l *Limits) *Count { return l.Core })),
	{"keep_env", flattenKeepEnv},
	{"env", flattenEnv},
	{"mounts", flattenMounts},
}

// expandable is a value with placeholders that a user's layer expands.
type expandable interface {
	expand(u User) (any, error)
}

func (p RootPath) expand(u User) (any, error) {
	if p == RootTmpfs {
		return p, nil
	}
	s, err := expandTemplate(string(p), u)
	if err == nil {
		err = checkRootPath(s)
	}
	return RootPath(s), err
}

func (p AbsPath) expand(u User) (any, error) {
	s, err := expandTemplate(string(p), u)
	return AbsPath(s), err
}

// scalar is a key whose value a later layer replaces whole. field returns
// nil when the layer does not set the key.
func scalar[T any](name string, field func(*Settings) *T) settingKey {
	return settingKey{name, func(s *Settings, u User, o *ops) error {
		p := field(s)
		if p == nil {
			return nil
		}
		var v any = *p
		place := s.origin.place(strings.Split(name, ".")...)
		if e, ok := v.(expandable); ok {
			var err error
			if v, err = e.expand(u); err != nil {
				return &Error{File: place.File, Line: place.Line, Key: place.Key, Msg: err.Error()}
			}
		}
		o.set = append(o.set, item{name, v, place})
		return nil
	}}
}

// keep_env replaces the list of the layers before it, and keep_env_remove
// removes entries from it. Each entry is an item, so that two groups that
// remove different entries do not conflict.
func flattenKeepEnv(s *Settings, _ User, o *ops) error {
	if s.KeepEnv != nil {
		o.clear = append(o.clear, item{"keep_env.", nil, s.origin.place("keep_env")})
	}
	for _, p := range s.KeepEnv {
		o.set = append(o.set, item{"keep_env." + p, true, s.origin.place("keep_env")})
	}
	for _, p := range s.KeepEnvRemove {
		o.remove = append(o.remove, item{"keep_env." + p, nil, s.origin.place("keep_env_remove")})
	}
	return nil
}

func flattenEnv(s *Settings, _ User, o *ops) error {
	names := make([]string, 0, len(s.Env))
	for k := range s.Env {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		o.set = append(o.set, item{"env." + k, s.Env[k], s.origin.place("env", k)})
	}
	for _, k := range s.EnvRemove {
		o.remove = append(o.remove, item{"env." + k, nil, s.origin.place("env_remove")})
	}
	return nil
}

// flattenMounts expands the placeholders of each mount and keys it by its
// target, which is what a later layer replaces or removes.
func flattenMounts(s *Settings, u User, o *ops) error {
	for i, m := range s.Mounts {
		place := s.origin.mountPlace(i + 1)
		fail := func(err error) error {
			return &Error{File: place.File, Line: place.Line, Key: place.Key, Msg: fmt.Sprintf("mount %d: %v", i+1, err)}
		}
		source, err := expandTemplate(string(m.Source), u)
		if err != nil {
			return fail(err)
		}
		target, err := expandTemplate(string(m.target()), u)
		if err != nil {
			return fail(err)
		}
		if err := checkMountTarget(target); err != nil {
			return fail(err)
		}
		mode := m.Mode
		if mode == "" {
			mode = ReadOnly
		}
		v := Mount{Source: AbsPath(source), Target: AbsPath(target), Mode: mode, Optional: m.Optional}
		o.set = append(o.set, item{MountKey(target), v, place})
	}
	for _, t := range s.MountsRemove {
		place := s.origin.place("mounts_remove")
		target, err := expandTemplate(string(t), u)
		if err != nil {
			return &Error{File: place.File, Line: place.Line, Key: place.Key, Msg: err.Error()}
		}
		o.remove = append(o.remove, item{MountKey(target), nil, place})
	}
	return nil
}

// MountKey, EnvKey and KeepEnvKey name an entry in Jail.Origins.
func MountKey(target string) string { return "mounts." + target }
func EnvKey(name string) string     { return "env." + name }
func KeepEnvKey(p string) string    { return "keep_env." + p }

func flatten(s *Settings, u User) (ops, error) {
	var o ops
	for _, k := range settingKeys {
		if err := k.flatten(s, u, &o); err != nil {
			return ops{}, err
		}
	}
	return o, nil
}

// state is an effective policy while layers apply. order keeps the items
// in the order they were first set, which is the order of the mounts and
// of keep_env. A replaced item keeps its place.
type state struct {
	order   []string
	items   map[string]item
	removed map[string]Place // items a layer removed, and where
}

func newState() *state {
	return &state{items: map[string]item{}, removed: map[string]Place{}}
}

func (s *state) clone() *state {
	c := &state{order: slices.Clone(s.order), items: make(map[string]item, len(s.items)), removed: make(map[string]Place, len(s.removed))}
	for k, v := range s.items {
		c.items[k] = v
	}
	for k, v := range s.removed {
		c.removed[k] = v
	}
	return c
}

func (s *state) set(it item) {
	if _, ok := s.items[it.key]; !ok {
		s.order = append(s.order, it.key)
	}
	s.items[it.key] = it
	delete(s.removed, it.key)
}

func (s *state) remove(key string, place Place) {
	if _, ok := s.items[key]; ok {
		delete(s.items, key)
		s.order = slices.DeleteFunc(s.order, func(k string) bool { return k == key })
	}
	s.removed[key] = place
}

// apply applies one layer's ops and returns the keys it touched.
func (s *state) apply(o ops) []string {
	var touched []string
	for _, c := range o.clear {
		for _, k := range slices.Clone(s.order) {
			if strings.HasPrefix(k, c.key) {
				s.remove(k, c.place)
				touched = append(touched, k)
			}
		}
	}
	for _, it := range o.remove {
		s.remove(it.key, it.place)
		touched = append(touched, it.key)
	}
	for _, it := range o.set {
		s.set(it)
		touched = append(touched, it.key)
	}
	return touched
}

// groupLayer is the settings of one of the user's groups: its table in
// the main file, then its groups.d file.
type groupLayer struct {
	name string
	rank int // position in group_order, or -1 when group_order does not list it
	ops  []ops
}

// outcome is the value, or the removal, that one group applied alone
// gives one item.
type outcome struct {
	group   *groupLayer
	present bool
	it      item // the item, or, when absent, its key and the place that removed it
}

func (a outcome) same(b outcome) bool {
	return a.present == b.present && (!a.present || reflect.DeepEqual(a.it.value, b.it.value))
}

// conflict is an item that two unordered groups set differently.
type conflict struct {
	key  string
	a, b outcome
}

// mergeGroups applies the user's groups onto base. Groups that agree, or
// that set different items, combine in any order. Where two groups give
// one item different outcomes, the one later in group_order wins if both
// are listed there. Otherwise the item is a conflict, which the caller
// reports unless the user's own layers decide the item.
func mergeGroups(base *state, groups []*groupLayer) (*state, []conflict) {
	type applied struct {
		st      *state
		touched map[string]bool
		clear   []item
	}
	var keys []string
	seen := map[string]bool{}
	results := make([]applied, len(groups))
	for i, g := range groups {
		r := applied{st: base.clone(), touched: map[string]bool{}}
		for _, o := range g.ops {
			for _, k := range r.st.apply(o) {
				r.touched[k] = true
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
			r.clear = append(r.clear, o.clear...)
		}
		results[i] = r
	}

	outcomes := map[string][]outcome{}
	for i, g := range groups {
		r := results[i]
		for _, k := range keys {
			// A group that replaces a list decides each entry of it,
			// including entries that only other groups add.
			ci := slices.IndexFunc(r.clear, func(c item) bool { return strings.HasPrefix(k, c.key) })
			if !r.touched[k] && ci < 0 {
				continue
			}
			it, present := r.st.items[k]
			if !present {
				place, ok := r.st.removed[k]
				if !ok {
					place = r.clear[ci].place
				}
				it = item{key: k, place: place}
			}
			outcomes[k] = append(outcomes[k], outcome{g, present, it})
		}
	}

	result := base.clone()
	var conflicts []conflict
	for _, k := range keys {
		win, c := decide(k, outcomes[k])
		if c != nil {
			conflicts = append(conflicts, *c)
			continue
		}
		if win.present {
			result.set(win.it)
		} else {
			result.remove(k, win.it.place)
		}
	}
	return result, conflicts
}

// decide returns the outcome that wins for one item, or the conflict. The
// group listed last in group_order wins among the listed groups. An
// unlisted group could come before or after any other, so its outcome
// must match the winner's.
func decide(key string, outs []outcome) (outcome, *conflict) {
	var win *outcome
	for i, o := range outs {
		if o.group.rank >= 0 && (win == nil || o.group.rank > win.group.rank) {
			win = &outs[i]
		}
	}
	for i, o := range outs {
		if o.group.rank >= 0 {
			continue
		}
		if win == nil {
			win = &outs[i]
			continue
		}
		if !o.same(*win) {
			return outcome{}, &conflict{key, o, *win}
		}
	}
	return *win, nil
}

// describe returns how an outcome reads in a conflict message.
func (o outcome) describe() string {
	if !o.present {
		return "removes it"
	}
	switch v := o.it.value.(type) {
	case Mount:
		if v.Optional {
			return fmt.Sprintf("mounts %s (%s, optional)", v.Source, v.Mode)
		}
		return fmt.Sprintf("mounts %s (%s)", v.Source, v.Mode)
	case bool:
		return fmt.Sprintf("sets %t", v)
	}
	return fmt.Sprintf("sets %q", fmt.Sprint(o.it.value))
}

// itemName returns how an item reads in messages.
func itemName(key string) string {
	switch {
	case strings.HasPrefix(key, "mounts."):
		return "the mount on " + strings.TrimPrefix(key, "mounts.")
	case strings.HasPrefix(key, "keep_env."):
		return "keep_env entry " + strings.TrimPrefix(key, "keep_env.")
	}
	return key
}

// conflictError returns the error for a conflict of user u's groups,
// placed at the value of the group that group_order does not list, and
// naming the other group's place.
func conflictError(c conflict, u User, mainName string) error {
	a, b := c.a, c.b
	msg := fmt.Sprintf("groups %s and %s of user %s conflict on %s: group %s %s here, group %s %s at %s; list both in group_order in %s, the group that should win last, or set it in the user's own entry",
		a.group.name, b.group.name, u.Name, itemName(c.key),
		a.group.name, a.describe(), b.group.name, b.describe(), b.it.place,
		mainName)
	return &Error{File: a.it.place.File, Line: a.it.place.Line, Key: a.it.place.Key, Msg: msg}
}
