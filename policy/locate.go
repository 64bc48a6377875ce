package policy

import (
	"iter"
	"strings"

	"github.com/BurntSushi/toml"
)

// locate returns the line (from 1) where key is defined in data, or 0.
// BurntSushi/toml keeps key positions private, so this reads the lines
// itself: table headers, dotted keys and quoted keys are understood, while
// inline tables are found by their outer key.
func locate(data []byte, key toml.Key) int {
	want := strings.Join(key, ".")
	var table []string
	best := 0
	for n, line := range numberedLines(data) {
		path, header, ok := lineKey(table, line)
		if !ok {
			continue
		}
		if header {
			table = path
		}
		p := strings.Join(path, ".")
		if p == want {
			return n
		}
		// Remember the nearest enclosing key, for a key inside an inline
		// table or an array.
		if strings.HasPrefix(want, p+".") {
			best = n
		}
	}
	return best
}

// locateArrayTable returns the line (from 1) of the nth [[key]] header in
// data, counting from 1, or 0 when data has fewer of them.
func locateArrayTable(data []byte, key toml.Key, n int) int {
	want := strings.Join(key, ".")
	for line, text := range numberedLines(data) {
		path, array, ok := tableHeader(text)
		if !ok || !array || strings.Join(path, ".") != want {
			continue
		}
		n--
		if n == 0 {
			return line
		}
	}
	return 0
}

// locateArrayTableKey returns the line of the key name in the nth [[table]]
// of data, or 0 when that table does not set it.
func locateArrayTableKey(data []byte, table toml.Key, n int, name string) int {
	start := locateArrayTable(data, table, n)
	if start == 0 || name == "" {
		return 0
	}
	for line, text := range numberedLines(data) {
		if line <= start {
			continue
		}
		path, header, ok := lineKey(nil, text)
		if header {
			return 0
		}
		if ok && strings.Join(path, ".") == name {
			return line
		}
	}
	return 0
}

// numberedLines yields each line of data, from 1, without surrounding
// blanks.
func numberedLines(data []byte) iter.Seq2[int, string] {
	return func(yield func(int, string) bool) {
		n := 0
		for line := range strings.Lines(string(data)) {
			n++
			if !yield(n, strings.TrimSpace(line)) {
				return
			}
		}
	}
}

// lineKey returns the key that a trimmed line defines: the key of a table
// header, with header set, or the key of a key = value line inside table.
// ok is false for a line that defines no key.
func lineKey(table []string, line string) (key []string, header, ok bool) {
	if strings.HasPrefix(line, "[") {
		key, _, ok = tableHeader(line)
		return key, ok, ok
	}
	k, _, found := strings.Cut(line, "=")
	if !found || strings.HasPrefix(line, "#") {
		return nil, false, false
	}
	return append(append([]string{}, table...), splitKey(k)...), false, true
}

// tableHeader parses a trimmed [table] or [[array.of.tables]] header line,
// which may end in a comment.
func tableHeader(line string) (key []string, array, ok bool) {
	open, closing := "[", "]"
	if strings.HasPrefix(line, "[[") {
		open, closing, array = "[[", "]]", true
	} else if !strings.HasPrefix(line, "[") {
		return nil, false, false
	}
	end := strings.Index(line, closing)
	if end < 0 {
		return nil, false, false
	}
	return splitKey(line[len(open):end]), array, true
}

// splitKey splits a dotted TOML key into its parts. A dot inside a quoted
// part, as in users."first.last", does not split it.
func splitKey(s string) []string {
	var parts []string
	var part strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			part.WriteByte(c)
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			parts = append(parts, strings.TrimSpace(part.String()))
			part.Reset()
		default:
			part.WriteByte(c)
		}
	}
	return append(parts, strings.TrimSpace(part.String()))
}
