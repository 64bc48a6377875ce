package policy

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Placeholders in path keys, as in sshd's ChrootDirectory: %u is the user
// name, %U the uid, %h the home folder from the passwd entry, and %% a
// literal %.
const placeholderHelp = "use %u (user name), %U (uid), %h (home folder) or %% for a literal %"

// checkPathTemplate checks a path that may hold placeholders: each one is
// known, %h starts the path, and the path is absolute and clean whatever
// the placeholders expand to.
func checkPathTemplate(s string) error {
	if !strings.Contains(s, "%") {
		return checkAbsPath(s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		if i+1 == len(s) {
			return fmt.Errorf("invalid path %q: it ends in a lone %%; %s", s, placeholderHelp)
		}
		switch s[i+1] {
		case 'u', 'U', '%':
		case 'h':
			if i != 0 {
				return fmt.Errorf("invalid path %q: %%h is an absolute path, so it may only start a path, like \"%%h/data\"", s)
			}
		default:
			return fmt.Errorf("invalid path %q: unknown placeholder %q; %s", s, s[i:i+2], placeholderHelp)
		}
		i++
	}
	// A sample user shows whether the text around the placeholders is
	// absolute and clean.
	sample, _ := expandPath(s, User{Name: "u", UID: 0, Home: "/h"})
	if !path.IsAbs(sample) {
		return fmt.Errorf("invalid path %q: must be absolute (start with / or %%h)", s)
	}
	if path.Clean(sample) != sample {
		return fmt.Errorf("invalid path %q: must be clean, without \"..\", \".\", \"//\" or a trailing /", s)
	}
	if strings.ContainsRune(s, 0) {
		return fmt.Errorf("invalid path %q: contains a NUL byte", s)
	}
	return nil
}

// expandPath replaces the placeholders of a template checked by
// checkPathTemplate. prefix is the literal text before the first
// placeholder up to its last '/', or the home for a template that starts
// with %h: the expanded path must stay below it.
func expandPath(tmpl string, u User) (expanded, prefix string) {
	var b strings.Builder
	first := -1 // length of the output before the first placeholder
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] != '%' || i+1 == len(tmpl) {
			b.WriteByte(tmpl[i])
			continue
		}
		i++
		if first < 0 && tmpl[i] != '%' {
			first = b.Len()
		}
		switch tmpl[i] {
		case 'u':
			b.WriteString(u.Name)
		case 'U':
			b.WriteString(strconv.Itoa(u.UID))
		case 'h':
			b.WriteString(u.Home)
		default:
			b.WriteByte(tmpl[i])
		}
	}
	out := b.String()
	switch {
	case first < 0:
		prefix = ""
	case first == 0:
		prefix = u.Home
	default:
		prefix = out[:strings.LastIndex(out[:first], "/")+1]
	}
	return out, prefix
}

// expandTemplate expands tmpl for u. It checks that the placeholders'
// values cannot lead the path anywhere the admin did not write, so the
// user name must be valid, the home absolute and clean, and the result
// clean and below the literal prefix.
func expandTemplate(tmpl string, u User) (string, error) {
	if !strings.Contains(tmpl, "%") {
		return tmpl, nil
	}
	if strings.Contains(tmpl, "%u") {
		if err := checkUserName(u.Name); err != nil {
			return "", fmt.Errorf("path %q: placeholder %%u: %v; rename the account, or write a fixed path", tmpl, err)
		}
	}
	if strings.HasPrefix(tmpl, "%h") {
		if !path.IsAbs(u.Home) || path.Clean(u.Home) != u.Home || u.Home == "/" {
			return "", fmt.Errorf("path %q: placeholder %%h: home folder %q of user %s in the passwd entry is not an absolute, clean path below /; fix the home, or write a fixed path", tmpl, u.Home, u.Name)
		}
	}
	out, prefix := expandPath(tmpl, u)
	if !path.IsAbs(out) || path.Clean(out) != out || strings.ContainsRune(out, 0) {
		return "", fmt.Errorf("path %q expands to %q for user %s, which is not an absolute, clean path; fix the account in the passwd database, or write a fixed path", tmpl, out, u.Name)
	}
	if prefix != "" && !strings.HasPrefix(out, prefix) {
		return "", fmt.Errorf("path %q expands to %q for user %s, outside %s; fix the account in the passwd database, or write a fixed path", tmpl, out, u.Name, prefix)
	}
	return out, nil
}
