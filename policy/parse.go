package policy

import (
	"errors"
	"fmt"
	"regexp"
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
	if err := decode(name, data, &f); err != nil {
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
	if err := decode(name, data, &s); err != nil {
		return nil, err
	}
	if err := checkSettings(name, data, s, nil); err != nil {
		return nil, err
	}
	return &s, nil
}

func decode(name string, data []byte, v any) error {
	if len(data) > MaxFileSize {
		return &Error{File: name, Msg: fmt.Sprintf("file is %d bytes, larger than the limit of %d; a policy file is a few kilobytes", len(data), MaxFileSize)}
	}
	md, err := toml.Decode(string(data), v)
	if err != nil {
		return tomlError(name, err)
	}
	// A typo must not silently drop a restriction, so unknown keys are errors.
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		k := undecoded[0]
		return &Error{File: name, Line: locate(data, k), Key: k.String(), Msg: "unknown key; see jailsh.toml(5) for the keys a policy may contain"}
	}
	return nil
}

// decodeErrorRE matches the decoder's type errors, which BurntSushi/toml
// (v1.6) returns as plain errors with the line and key in the text.
var decodeErrorRE = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

func tomlError(name string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &Error{File: name, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}
	}
	if m := decodeErrorRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: name, Line: line, Key: m[2], Msg: m[3]}
	}
	return &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
}

func checkSettings(name string, data []byte, s Settings, prefix toml.Key) error {
	at := func(msg string, key ...string) error {
		k := append(append(toml.Key{}, prefix...), key...)
		return &Error{File: name, Line: locate(data, k), Key: k.String(), Msg: msg}
	}
	for i, m := range s.Mounts {
		if m.Source == "" {
			return at(fmt.Sprintf("mount %d has no source; add source = \"/host/path\"", i+1), "mounts")
		}
		target := m.Target
		if target == "" {
			target = m.Source
		}
		if err := checkMountTarget(string(target)); err != nil {
			return at(err.Error(), "mounts")
		}
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
