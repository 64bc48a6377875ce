package policy

import (
	"bufio"
	"bytes"
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
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), MaxFileSize)
	best := 0
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		var path []string
		switch {
		case strings.HasPrefix(line, "[["):
			table = splitKey(strings.TrimSuffix(strings.TrimPrefix(line, "[["), "]]"))
			path = table
		case strings.HasPrefix(line, "["):
			end := strings.Index(line, "]")
			if end < 0 {
				continue
			}
			table = splitKey(line[1:end])
			path = table
		default:
			k, _, ok := strings.Cut(line, "=")
			if !ok || strings.HasPrefix(line, "#") {
				continue
			}
			path = append(append([]string{}, table...), splitKey(k)...)
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

func splitKey(s string) []string {
	var parts []string
	for _, p := range strings.Split(s, ".") {
		p = strings.TrimSpace(p)
		p = strings.Trim(p, `"'`)
		parts = append(parts, p)
	}
	return parts
}
