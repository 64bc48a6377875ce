package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// mountArray is one mounts array of a policy file, with each mount left
// undecoded.
type mountArray struct {
	key    toml.Key
	mounts []toml.Primitive
}

type rawLayer struct {
	Mounts []toml.Primitive `toml:"mounts"`
}

func mainFileMountArrays(data []byte) (toml.MetaData, []mountArray, error) {
	var raw struct {
		Defaults rawLayer            `toml:"defaults"`
		Groups   map[string]rawLayer `toml:"groups"`
		Users    map[string]rawLayer `toml:"users"`
	}
	md, err := toml.Decode(string(data), &raw)
	arrays := []mountArray{{toml.Key{"defaults", "mounts"}, raw.Defaults.Mounts}}
	for group, s := range raw.Groups {
		arrays = append(arrays, mountArray{toml.Key{"groups", group, "mounts"}, s.Mounts})
	}
	for user, s := range raw.Users {
		arrays = append(arrays, mountArray{toml.Key{"users", user, "mounts"}, s.Mounts})
	}
	return md, arrays, err
}

func userFileMountArrays(data []byte) (toml.MetaData, []mountArray, error) {
	var raw rawLayer
	md, err := toml.Decode(string(data), &raw)
	return md, []mountArray{{toml.Key{"mounts"}, raw.Mounts}}, err
}

// mountKeys are the keys of a mount table.
var mountKeys = []string{"source", "target", "mode", "optional"}

// numberMountError rewrites a decoder error about a mount to start with
// "mount N: " and to point at mount N. The error is about a key of the
// mount, such as defaults.mounts.mode, or about the whole mount when it is
// no table. BurntSushi/toml (v1.6) keeps one position per dotted key, so it
// reports the line of the last mount that sets the key, whichever mount
// failed.
func numberMountError(data []byte, l layout, e *Error) {
	arrayKey, field := splitMountKey(e.Key)
	md, arrays, err := l.mountArrays(data)
	if err != nil {
		return
	}
	for _, a := range arrays {
		if a.key.String() != arrayKey {
			continue
		}
		n := firstFailingMount(md, a.mounts)
		if n == 0 {
			return
		}
		if field == "" {
			e.Msg = notTableMessage(md, a.mounts[n-1], e.Msg)
		}
		e.Msg = fmt.Sprintf("mount %d: %s", n, e.Msg)
		// A mount that is no table, and any mount of an inline array, has
		// no [[...]] header, so the decoder's line is kept.
		// NOTE: in an inline array split over several lines, that line is
		// the last mount's that sets the key, not necessarily mount n's.
		if line := locateArrayTableKey(data, a.key, n, field); line > 0 {
			e.Line = line
		}
		return
	}
}

// splitMountKey splits key into the key of a mounts array and a key of a
// mount, or returns key whole and an empty field when it ends in no key of
// a mount.
func splitMountKey(key string) (arrayKey, field string) {
	i := strings.LastIndex(key, ".")
	if i < 0 || !slices.Contains(mountKeys, key[i+1:]) {
		return key, ""
	}
	return key[:i], key[i+1:]
}

// notTableMessage returns the message for a mount that is no table, or msg
// when the mount is a table.
func notTableMessage(md toml.MetaData, mount toml.Primitive, msg string) string {
	var value any
	if err := md.PrimitiveDecode(mount, &value); err != nil {
		return msg
	}
	if _, ok := value.(map[string]any); ok {
		return msg
	}
	return `invalid type: want a table, like { source = "/srv/data" }, got ` + describeValue(value)
}

// firstFailingMount returns the number, from 1, of the first of mounts that
// does not decode into a Mount, or 0 when all of them do. The decoder stops
// at that mount, so it is the one its error is about.
func firstFailingMount(md toml.MetaData, mounts []toml.Primitive) int {
	for i, p := range mounts {
		var m Mount
		if md.PrimitiveDecode(p, &m) != nil {
			return i + 1
		}
	}
	return 0
}
