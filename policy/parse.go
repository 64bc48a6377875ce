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
	if err := checkSettings(name, data, f.Defaults, toml.Key{"defaults"}); err != nil {
		return nil, err
	}
	for user, s := range f.Users {
		if err := checkUserName(user); err != nil {
			return nil, &Error{File: name, Line: locate(data, toml.Key{"users", user}), Key: "users." + user, Msg: err.Error()}
		}
		if err := checkSettings(name, data, s, toml.Key{"users", user}); err != nil {
			return nil, err
		}
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
	if err := checkSettings(name, data, s, nil); err != nil {
		return nil, err
	}
	return &s, nil
}

func checkSettings(name string, data []byte, s Settings, prefix toml.Key) error {
	at := func(msg string, key ...string) error {
		k := append(append(toml.Key{}, prefix...), key...)
		return &Error{File: name, Line: locate(data, k), Key: k.String(), Msg: msg}
	}
	if err := checkMounts(name, data, s.Mounts, append(append(toml.Key{}, prefix...), "mounts")); err != nil {
		return err
	}
	for _, pattern := range s.KeepEnv {
		if err := checkEnvPattern(pattern); err != nil {
			return at(err.Error(), "keep_env")
		}
	}
	for k := range s.Env {
		if err := checkEnvName(k); err != nil {
			return at(err.Error(), "env", k)
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

// checkMounts returns an error for the first invalid mount of the array at
// key, at the line of that mount's own [[...]] header.
func checkMounts(name string, data []byte, mounts []Mount, key toml.Key) error {
	for i, m := range mounts {
		if err := checkMount(m); err != nil {
			line := locateArrayTable(data, key, i+1)
			if line == 0 {
				// Mounts written as an inline array have no header.
				line = locate(data, key)
			}
			return &Error{File: name, Line: line, Key: key.String(), Msg: fmt.Sprintf("mount %d: %v", i+1, err)}
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
	if name == "" || len(name) > 256 || name == "." || name == ".." {
		return fmt.Errorf("invalid user name %q", name)
	}
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' ||
			(c == '-' && i > 0) || (c == '$' && i == len(name)-1)
		if !ok {
			return fmt.Errorf("invalid user name %q: only letters, digits, '_', '.', '-' and a final '$' are allowed", name)
		}
	}
	return nil
}
