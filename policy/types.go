package policy

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// RootTmpfs is the root value that selects an empty tmpfs as the jail's
// root, filled only by the policy's mounts. It cannot clash with a path,
// since a root path must be absolute.
const RootTmpfs = "tmpfs"

// Network is the network view of a jail.
type Network string

const (
	// NetworkNone gives the jail a network namespace of its own with only
	// the loopback interface, brought up.
	NetworkNone Network = "none"
	// NetworkHost leaves the jail in the host's network namespace.
	NetworkHost Network = "host"
)

// UnmarshalTOML implements toml.Unmarshaler, so that the TOML decoder
// reports a bad value with its line and key.
func (n *Network) UnmarshalTOML(value any) error {
	s, err := stringValue(value, `network = "none"`)
	if err != nil {
		return err
	}
	switch v := Network(s); v {
	case NetworkNone, NetworkHost:
		*n = v
		return nil
	}
	return fmt.Errorf("invalid network %q: use \"none\" or \"host\"", s)
}

// AbsPath is an absolute, clean path on the host or in the jail. In a
// parsed policy it may hold placeholders (%u, %U, %h), which Resolve
// expands; in a Jail it is expanded.
type AbsPath string

// UnmarshalTOML implements toml.Unmarshaler.
func (p *AbsPath) UnmarshalTOML(value any) error {
	s, err := stringValue(value, `"/bin/bash"`)
	if err != nil {
		return err
	}
	if err := checkPathTemplate(s); err != nil {
		return err
	}
	*p = AbsPath(s)
	return nil
}

func checkAbsPath(s string) error {
	if !path.IsAbs(s) {
		return fmt.Errorf("invalid path %q: must be absolute (start with /)", s)
	}
	if path.Clean(s) != s {
		return fmt.Errorf("invalid path %q: must be clean, without \"..\", \".\", \"//\" or a trailing /; write %q", s, path.Clean(s))
	}
	if strings.ContainsRune(s, 0) {
		return fmt.Errorf("invalid path %q: contains a NUL byte", s)
	}
	return nil
}

// RootPath is the jail's root: an absolute path to a root filesystem, or
// RootTmpfs.
type RootPath string

// UnmarshalTOML implements toml.Unmarshaler.
func (r *RootPath) UnmarshalTOML(value any) error {
	s, err := stringValue(value, `root = "/srv/jails/bookworm"`)
	if err != nil {
		return err
	}
	if s == RootTmpfs {
		*r = RootPath(s)
		return nil
	}
	if err := checkPathTemplate(s); err != nil {
		return fmt.Errorf("%w, or the word %q for an empty tmpfs root", err, RootTmpfs)
	}
	if err := checkRootPath(s); err != nil {
		return err
	}
	*r = RootPath(s)
	return nil
}

// checkRootPath rejects the host's root, before and after placeholders
// are expanded.
func checkRootPath(s string) error {
	if s == "/" {
		return fmt.Errorf("invalid root \"/\": the host's root is no jail; use a root filesystem such as /srv/jails/bookworm")
	}
	return nil
}

// MountMode is the access of a bind mount: read-only or read-write.
type MountMode string

const (
	ReadOnly  MountMode = "ro"
	ReadWrite MountMode = "rw"
)

// UnmarshalTOML implements toml.Unmarshaler.
func (m *MountMode) UnmarshalTOML(value any) error {
	s, err := stringValue(value, `mode = "ro"`)
	if err != nil {
		return err
	}
	switch v := MountMode(s); v {
	case ReadOnly, ReadWrite:
		*m = v
		return nil
	}
	return fmt.Errorf("invalid mount mode %q: use \"ro\" or \"rw\"", s)
}

// Hostname is a jail's host name, checked against RFC 1123.
type Hostname string

// UnmarshalTOML implements toml.Unmarshaler.
func (h *Hostname) UnmarshalTOML(value any) error {
	s, err := stringValue(value, `hostname = "web1"`)
	if err != nil {
		return err
	}
	if err := checkHostname(s); err != nil {
		return err
	}
	*h = Hostname(s)
	return nil
}

// checkHostname checks s against RFC 1123, under which a label has at most
// 63 characters. The whole name may have at most 64, the HOST_NAME_MAX of
// Linux that sethostname(2) enforces.
func checkHostname(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("invalid hostname %q: must be 1 to 64 characters", s)
	}
	for _, label := range strings.Split(s, ".") {
		if len(label) > 63 {
			return fmt.Errorf("invalid hostname %q: label %s is longer than 63 characters; split it with '.'", s, label)
		}
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("invalid hostname %q: labels must be non-empty and must not start or end with '-'", s)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("invalid hostname %q: only letters, digits, '-' and '.' are allowed", s)
			}
		}
	}
	return nil
}

// stringValue returns value when it is a string, and otherwise an error
// that shows example, a key with a valid value. The string types implement
// toml.Unmarshaler, not encoding.TextUnmarshaler, because BurntSushi/toml
// (v1.6) turns integers, floats, booleans and datetimes into text for the
// latter.
func stringValue(value any, example string) (string, error) {
	s, ok := value.(string)
	if !ok {
		return "", fmt.Errorf("invalid type: want a string, like %s, got %s", example, describeValue(value))
	}
	return s, nil
}

// describeValue names the TOML type of a decoded value, followed by the
// value when it is a number or a boolean.
func describeValue(value any) string {
	switch v := value.(type) {
	case string:
		return "string"
	case int64:
		return "integer " + strconv.FormatInt(v, 10)
	case float64:
		return "float " + strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case time.Time:
		return "datetime"
	case []map[string]any:
		return "array of tables"
	case []any:
		return "array"
	case map[string]any:
		return "table"
	}
	return fmt.Sprintf("value of Go type %T", value)
}

// Unlisted is the treatment of a user who has no entry of their own.
type Unlisted string

const (
	// UnlistedRefuse refuses users without an entry; this is the default.
	UnlistedRefuse Unlisted = "refuse"
	// UnlistedDefaults jails users without an entry with [defaults].
	UnlistedDefaults Unlisted = "defaults"
)

// UnmarshalTOML implements toml.Unmarshaler.
func (u *Unlisted) UnmarshalTOML(value any) error {
	s, err := stringValue(value, `unlisted = "refuse"`)
	if err != nil {
		return err
	}
	switch v := Unlisted(s); v {
	case UnlistedRefuse, UnlistedDefaults:
		*u = v
		return nil
	}
	return fmt.Errorf("invalid value %q: use \"refuse\" or \"defaults\"", s)
}

// Mount is one bind mount from the host into the jail. In a parsed policy
// Source and Target may hold placeholders; in a Jail they are expanded.
type Mount struct {
	Source AbsPath   `toml:"source"`
	Target AbsPath   `toml:"target"` // defaults to Source
	Mode   MountMode `toml:"mode"`   // defaults to ReadOnly
	// Optional skips the mount when Source does not exist on the host.
	Optional bool `toml:"optional"`
}

// Settings is one layer of jail settings: [defaults], a [groups.NAME] or
// [users.NAME] table, or a groups.d or users.d file. A nil field is not
// set in that layer. settingKeys in merge.go defines how layers combine
// each key, so a new key needs a line there, one in Jail.fill, and its
// built-in default, if it has one, in builtinDefaults.
type Settings struct {
	Root         *RootPath         `toml:"root"`
	RootReadOnly *bool             `toml:"root_readonly"`
	Shell        *AbsPath          `toml:"shell"`
	Hostname     *Hostname         `toml:"hostname"`
	Network      *Network          `toml:"network"`
	Home         *bool             `toml:"home"`
	Path         *string           `toml:"path"`
	KeepEnv      []string          `toml:"keep_env"`
	Env          map[string]string `toml:"env"`
	Mounts       []Mount           `toml:"mounts"`
	Session      *SessionMode      `toml:"session"`
	Linger       *Linger           `toml:"linger"`

	// Hardening; see harden.go.
	Seccomp         *bool           `toml:"seccomp"`
	SyscallsDenied  *SyscallList    `toml:"syscalls_denied"`
	SyscallsAllowed *SyscallList    `toml:"syscalls_allowed"`
	Capabilities    *CapabilityList `toml:"capabilities"`
	UserNamespaces  *Count          `toml:"user_namespaces"`
	UID             *UIDMode        `toml:"uid"`
	Limits          *Limits         `toml:"limits"`

	// Entries that this layer removes from what the layers before it set.
	KeepEnvRemove []string  `toml:"keep_env_remove"`
	EnvRemove     []string  `toml:"env_remove"`
	MountsRemove  []AbsPath `toml:"mounts_remove"` // mount targets

	// origin locates the layer's keys in the file it came from; it is
	// empty for settings that were not parsed from a file.
	origin origin
}

// File is the main policy file, jailsh.toml.
type File struct {
	Unlisted Unlisted `toml:"unlisted"`
	// GroupOrder orders groups whose settings conflict: a later group
	// wins over an earlier one.
	GroupOrder []string            `toml:"group_order"`
	Defaults   Settings            `toml:"defaults"`
	Groups     map[string]Settings `toml:"groups"`
	Users      map[string]Settings `toml:"users"`
}
