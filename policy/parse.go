package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// MaxFileSize bounds a policy file, so that a runaway file cannot stall
// every login. Real policies are a few kilobytes.
const MaxFileSize = 1 << 20

// Error is a policy error that names the file, line and key at fault.
type Error struct {
	File string
	Line int    // 0 when unknown
	Key  string // dotted TOML key; empty when the error is not about one key
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString("key " + strconv.Quote(e.Key) + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ParseFile parses the main policy file. name is used in errors only.
func ParseFile(name string, data []byte) (*File, error) {
	var f File
	if err := decode(name, data, &f, mainFileLayout); err != nil {
		return nil, err
	}
	if f.Unlisted == "" {
		f.Unlisted = UnlistedRefuse
	}

	lines := newLineIndex(data)
	at := func(msg string, key ...string) error {
		return &Error{File: name, Line: lines.find(key), Key: toml.Key(key).String(), Msg: msg}
	}
	seen := map[string]bool{}
	for _, g := range f.GroupOrder {
		if err := checkGroupName(g); err != nil {
			return nil, at("invalid group_order entry: "+err.Error(), "group_order")
		}
		if seen[g] {
			return nil, at(fmt.Sprintf("group %s is listed twice; list each group once, the one that wins last", g), "group_order")
		}
		seen[g] = true
	}

	f.Defaults.origin = origin{file: name, prefix: toml.Key{"defaults"}, lines: lines}
	if err := checkSettings(f.Defaults); err != nil {
		return nil, err
	}
	for group, s := range f.Groups {
		if err := checkGroupName(group); err != nil {
			return nil, &Error{File: name, Line: lines.find(toml.Key{"groups", group}), Key: "groups." + group, Msg: err.Error()}
		}
		s.origin = origin{file: name, prefix: toml.Key{"groups", group}, lines: lines}
		if err := checkSettings(s); err != nil {
			return nil, err
		}
		f.Groups[group] = s
	}

	for user, s := range f.Users {
		if err := checkUserName(user); err != nil {
			return nil, &Error{File: name, Line: lines.find(toml.Key{"users", user}), Key: "users." + user, Msg: err.Error()}
		}
		s.origin = origin{file: name, prefix: toml.Key{"users", user}, lines: lines}
		if err := checkSettings(s); err != nil {
			return nil, err
		}
		f.Users[user] = s
	}
	return &f, nil
}

// ParseUserFile parses a users.d/NAME.toml file, whose top-level keys are
// those of a [users.NAME] table.
func ParseUserFile(name string, data []byte) (*Settings, error) {
	var s Settings
	if err := decode(name, data, &s, userFileLayout); err != nil {
		return nil, err
	}
	s.origin = origin{file: name, lines: newLineIndex(data)}
	if err := checkSettings(s); err != nil {
		return nil, err
	}
	return &s, nil
}

// ParseGroupFile parses a groups.d/NAME.toml file, whose top-level keys
// are those of a [groups.NAME] table, the same as a user's.
func ParseGroupFile(name string, data []byte) (*Settings, error) {
	return ParseUserFile(name, data)
}

// checkSettings checks what the decoder cannot: each value against the
// others of the layer.
func checkSettings(s Settings) error {
	o := s.origin
	at := func(msg string, key ...string) error {
		p := o.place(key...)
		return &Error{File: p.File, Line: p.Line, Key: p.Key, Msg: msg}
	}
	if err := checkMounts(s); err != nil {
		return err
	}
	if s.UserNamespaces != nil && *s.UserNamespaces > MaxUserNamespaces {
		return at(fmt.Sprintf("user_namespaces = %d is more than %d; a jail needs a few at most", *s.UserNamespaces, MaxUserNamespaces), "user_namespaces")
	}
	for _, pattern := range s.KeepEnv {
		if err := checkEnvPattern(pattern); err != nil {
			return at(err.Error(), "keep_env")
		}
	}
	for _, pattern := range s.KeepEnvRemove {
		if err := checkEnvPattern(pattern); err != nil {
			return at(err.Error(), "keep_env_remove")
		}
	}
	if s.KeepEnv != nil && len(s.KeepEnvRemove) > 0 {
		return at("keep_env replaces the whole list, so keep_env_remove in the same table has nothing to remove; leave the entries out of keep_env instead", "keep_env_remove")
	}
	for k := range s.Env {
		if err := checkEnvName(k); err != nil {
			return at(err.Error(), "env", k)
		}
	}
	for _, k := range s.EnvRemove {
		if err := checkEnvName(k); err != nil {
			return at(err.Error(), "env_remove")
		}
	}
	if s.Path != nil {
		for _, dir := range strings.Split(*s.Path, ":") {
			if err := checkAbsPath(dir); err != nil {
				return at("invalid PATH entry: "+err.Error(), "path")
			}
		}
	}
	return nil
}

// target returns where m is mounted: its target, or else its source.
func (m Mount) target() AbsPath {
	if m.Target == "" {
		return m.Source
	}
	return m.Target
}

// checkMounts returns an error for the first invalid mount of s, at the
// line of that mount's own [[...]] header.
func checkMounts(s Settings) error {
	for i, m := range s.Mounts {
		if err := checkMount(m); err != nil {
			p := s.origin.mountPlace(i + 1)
			return &Error{File: p.File, Line: p.Line, Key: p.Key, Msg: fmt.Sprintf("mount %d: %v", i+1, err)}
		}
	}
	return nil
}

func checkMount(m Mount) error {
	if m.Source == "" {
		return errors.New("missing source; add source = \"/host/path\"")
	}
	target := m.Target
	if target == "" {
		target = m.Source
	}
	return checkMountTarget(string(target))
}

// reservedTargets are set up by jailsh itself on every jail.
var reservedTargets = []string{"/", "/proc", "/dev"}

func checkMountTarget(target string) error {
	for _, r := range reservedTargets {
		if target == r || (r != "/" && strings.HasPrefix(target, r+"/")) {
			return fmt.Errorf("invalid mount target %q: jailsh mounts %s itself; choose another target", target, r)
		}
	}
	return nil
}

// checkUserName accepts the names useradd accepts on Debian, including
// dots, dashes and a trailing $ for machine accounts.
func checkUserName(name string) error {
	return checkAccountName("user", name)
}

// checkGroupName accepts the names groupadd accepts on Debian, which
// follow the rules of user names.
func checkGroupName(name string) error {
	return checkAccountName("group", name)
}

func checkAccountName(kind, name string) error {
	if name == "" || len(name) > 256 || name == "." || name == ".." {
		return fmt.Errorf("invalid %s name %q", kind, name)
	}
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' ||
			(c == '-' && i > 0) || (c == '$' && i == len(name)-1)
		if !ok {
			return fmt.Errorf("invalid %s name %q: only letters, digits, '_', '.', '-' and a final '$' are allowed", kind, name)
		}
	}
	return nil
}
