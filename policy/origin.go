package policy

import (
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Place is the origin of an effective value: a policy file, the line of
// the key (0 when unknown) and the dotted TOML key in that file. The zero
// Place stands for jailsh's built-in default.
type Place struct {
	File string
	Line int
	Key  string
}

func (p Place) String() string {
	if p.File == "" {
		return "default"
	}
	if p.Line > 0 {
		return p.File + ":" + strconv.Itoa(p.Line)
	}
	return p.File
}

// origin ties a layer of settings to the file it was parsed from.
type origin struct {
	file   string
	prefix toml.Key // the layer's table, such as groups.staff; nil for a users.d or groups.d file
	lines  *lineIndex
}

// place returns the Place of key, relative to the layer's table.
func (o origin) place(key ...string) Place {
	k := append(append(toml.Key{}, o.prefix...), key...)
	return Place{File: o.file, Line: o.lines.find(k), Key: k.String()}
}

// mountPlace returns the Place of the nth mount (from 1) of the layer.
func (o origin) mountPlace(n int) Place {
	k := append(append(toml.Key{}, o.prefix...), "mounts")
	line := o.lines.arrayTable(k, n)
	if line == 0 {
		line = o.lines.find(k)
	}
	return Place{File: o.file, Line: line, Key: k.String()}
}

// lineIndex maps the keys of a file to their lines, built in one pass so
// that resolving thousands of accounts does not scan the file per value.
// It reads lines as locate does, with the same limits.
type lineIndex struct {
	keys   map[string]int   // first line of each key
	arrays map[string][]int // lines of the [[key]] headers of each key
}

func indexKey(k []string) string { return strings.Join(k, "\x00") }

func newLineIndex(data []byte) *lineIndex {
	ix := &lineIndex{keys: map[string]int{}, arrays: map[string][]int{}}
	var table []string
	for n, line := range numberedLines(data) {
		path, header, ok := lineKey(table, line)
		if !ok {
			continue
		}
		if header {
			table = path
			if _, array, _ := tableHeader(line); array {
				ix.arrays[indexKey(path)] = append(ix.arrays[indexKey(path)], n)
			}
		}
		if _, seen := ix.keys[indexKey(path)]; !seen {
			ix.keys[indexKey(path)] = n
		}
	}
	return ix
}

// find returns the line of key, or of the nearest table or key that
// encloses it (for a key inside an inline table), or 0.
func (ix *lineIndex) find(key toml.Key) int {
	if ix == nil {
		return 0
	}
	for n := len(key); n > 0; n-- {
		if line, ok := ix.keys[indexKey(key[:n])]; ok {
			return line
		}
	}
	return 0
}

// arrayTable returns the line of the nth [[key]] header (from 1), or 0.
func (ix *lineIndex) arrayTable(key toml.Key, n int) int {
	if ix == nil {
		return 0
	}
	lines := ix.arrays[indexKey(key)]
	if n < 1 || n > len(lines) {
		return 0
	}
	return lines[n-1]
}
