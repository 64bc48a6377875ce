package policy

import "fmt"

// BurntSushi/toml (v1.6) needs time and memory that grow with the square
// of the depth of inline tables and dotted keys: 10,000 nested inline
// tables exhaust 4 GB. No policy needs more than a few levels, so deeper
// input is rejected before it reaches the decoder.
const (
	maxNesting  = 16 // arrays and inline tables inside one another
	maxKeyParts = 16 // parts of one dotted key or table header
)

// checkNesting scans data the way a TOML lexer would, skipping strings and
// comments, and returns an error at the first line that nests values
// deeper than maxNesting or has a key of more than maxKeyParts parts. It
// only bounds the input: syntax errors are left to the decoder.
func checkNesting(name string, data []byte) error {
	line := 1
	var open []byte // the [ and { of values still open
	inKey, inHeader, lineStart := true, false, true
	parts := 1
	tooDeep := func(what string) error {
		return &Error{File: name, Line: line, Msg: what + "; a policy needs a few levels at most, so check the file for damage"}
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '\n':
			line++
			if len(open) == 0 && !inHeader {
				inKey, parts, lineStart = true, 1, true
			}
			continue
		case c == ' ' || c == '\t' || c == '\r':
			continue
		case c == '#':
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
			continue
		case c == '"' || c == '\'':
			i, line = skipString(data, i, line)
		case lineStart && len(open) == 0 && c == '[':
			inHeader, inKey, parts = true, true, 1
			if i+1 < len(data) && data[i+1] == '[' {
				i++
			}
		case inHeader && c == ']':
			inHeader, inKey = false, false
			if i+1 < len(data) && data[i+1] == ']' {
				i++
			}
		case inKey && c == '.':
			parts++
			if parts > maxKeyParts {
				return tooDeep(fmt.Sprintf("key with more than %d parts", maxKeyParts))
			}
		case inKey && c == '=':
			inKey = false
		case inKey && c == '}' && len(open) > 0:
			// An empty inline table.
			open, inKey = open[:len(open)-1], false
		case !inKey && (c == '[' || c == '{'):
			open = append(open, c)
			if len(open) > maxNesting {
				return tooDeep(fmt.Sprintf("arrays or inline tables nested more than %d deep", maxNesting))
			}
			if c == '{' {
				inKey, parts = true, 1
			}
		case !inKey && (c == ']' || c == '}'):
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		case !inKey && c == ',' && len(open) > 0 && open[len(open)-1] == '{':
			inKey, parts = true, 1
		}
		lineStart = false
	}
	return nil
}

// skipString returns the index of the last byte of the string that starts
// at data[i], and the line it ends on. An unterminated string runs to the
// end of its line, or of data for a multi-line string.
func skipString(data []byte, i, line int) (int, int) {
	q := data[i]
	multi := i+2 < len(data) && data[i+1] == q && data[i+2] == q
	if multi {
		i += 2
	}
	for i++; i < len(data); i++ {
		switch c := data[i]; {
		case c == '\\' && q == '"':
			if i+1 < len(data) && data[i+1] == '\n' {
				line++
			}
			i++
		case c == '\n':
			if !multi {
				return i - 1, line
			}
			line++
		case c == q && !multi:
			return i, line
		case c == q && i+2 < len(data) && data[i+1] == q && data[i+2] == q:
			// Up to two more quotes may end the string's content.
			i += 2
			for i+1 < len(data) && data[i+1] == q {
				i++
			}
			return i, line
		}
	}
	return len(data) - 1, line
}
