package policy

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

// layout describes one kind of policy file for decode.
type layout struct {
	tables []tableRule
	// mountArrays decodes the file's mount arrays again, each mount kept
	// undecoded, to find the mount that a decoder error is about.
	mountArrays func(data []byte) (toml.MetaData, []mountArray, error)
}

// tableRule is a key whose value must be a table when present.
type tableRule struct {
	key     toml.Key // "*" matches any one user name
	example string   // a valid value for the error; empty for a [key] header
}

const envExample = `env = { EDITOR = "vi" }`

var mainFileLayout = layout{
	tables: []tableRule{
		{toml.Key{"users"}, "[users.alice]"},
		{toml.Key{"groups"}, "[groups.staff]"},
		{toml.Key{"defaults"}, ""},
		{toml.Key{"users", "*"}, ""},
		{toml.Key{"groups", "*"}, ""},
		{toml.Key{"defaults", "env"}, envExample},
		{toml.Key{"users", "*", "env"}, envExample},
		{toml.Key{"groups", "*", "env"}, envExample},
	},
	mountArrays: mainFileMountArrays,
}

// userFileLayout is the layout of users.d and groups.d files.
var userFileLayout = layout{
	tables:      []tableRule{{toml.Key{"env"}, envExample}},
	mountArrays: userFileMountArrays,
}

func decode(name string, data []byte, v any, l layout) error {
	if len(data) > MaxFileSize {
		return &Error{File: name, Msg: fmt.Sprintf("file is %d bytes, larger than the limit of %d; a policy file is a few kilobytes", len(data), MaxFileSize)}
	}
	if err := checkNesting(name, data); err != nil {
		return err
	}
	md, err := toml.Decode(string(data), v)
	// For a map such as users or env, the decoder silently decodes nothing
	// from a value that is no table. For a struct such as defaults, it
	// reports a Go type mismatch. Both are checked here first, because md
	// holds the key types even when decoding failed.
	if terr := checkTables(name, data, md, l.tables); terr != nil {
		return terr
	}
	if err != nil {
		e := tomlError(name, err)
		numberMountError(data, l, e)
		return e
	}
	// A typo must not silently drop a restriction, so unknown keys are errors.
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		k := undecoded[0]
		return &Error{File: name, Line: locate(data, k), Key: k.String(), Msg: "unknown key; see jailsh.toml(5) for the keys a policy may contain"}
	}
	return nil
}

// decodeErrorRE matches the decoder's type errors, which BurntSushi/toml
// (v1.6) returns as plain errors with the line and key in the text. The
// key is quoted with %q, so a quoted user name in it has escaped quotes.
// It is compiled on first use, not when every jailsh process starts.
var decodeErrorRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^toml: line (\d+) \(last key ("(?:[^"\\]|\\.)*")\): (.*)$`)
})

func tomlError(name string, err error) *Error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &Error{File: name, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}
	}
	if m := decodeErrorRE().FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		key, _ := strconv.Unquote(m[2])
		return &Error{File: name, Line: line, Key: key, Msg: m[3]}
	}
	return &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
}

// checkTables returns an error for the first key of md that one of rules
// covers but that holds something other than a table.
func checkTables(name string, data []byte, md toml.MetaData, rules []tableRule) error {
	for _, key := range md.Keys() {
		rule, ok := findTableRule(key, rules)
		// MetaData.Type returns "Hash" for both [table] headers and inline
		// tables. A table made implicitly by a dotted key is not in Keys.
		if !ok || md.Type(key...) == "Hash" {
			continue
		}
		example := rule.example
		if example == "" {
			example = "[" + key.String() + "]"
		}
		msg := fmt.Sprintf("invalid type: want a table, like %s, got %s", example, tomlTypeName(md.Type(key...)))
		return &Error{File: name, Line: locate(data, key), Key: key.String(), Msg: msg}
	}
	return nil
}

func findTableRule(key toml.Key, rules []tableRule) (tableRule, bool) {
	for _, r := range rules {
		if matchKey(r.key, key) {
			return r, true
		}
	}
	return tableRule{}, false
}

func matchKey(pattern, key toml.Key) bool {
	if len(pattern) != len(key) {
		return false
	}
	for i := range pattern {
		if pattern[i] != "*" && pattern[i] != key[i] {
			return false
		}
	}
	return true
}

// tomlTypeName turns a type name of MetaData.Type into the TOML term.
func tomlTypeName(t string) string {
	switch t {
	case "Bool":
		return "boolean"
	case "ArrayHash":
		return "array of tables"
	}
	return strings.ToLower(t)
}
