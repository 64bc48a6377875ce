package policy

import (
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// Deep input must be rejected before it reaches the decoder, which needs
// memory that grows with the square of the depth.
func TestParseFileTooDeep(t *testing.T) {
	deep := 10000
	tests := []struct {
		name string
		src  string
		line int
		msg  string
	}{
		{"nested inline tables", "[defaults]\nenv = " + strings.Repeat("{ a = ", deep) + "1" + strings.Repeat("}", deep) + "\n", 2, "nested more than 16 deep"},
		{"nested arrays", "# arrays\n\nx = " + strings.Repeat("[", deep) + strings.Repeat("]", deep) + "\n", 3, "nested more than 16 deep"},
		{"unclosed arrays", "x = " + strings.Repeat("[", deep), 1, "nested more than 16 deep"},
		{"inline tables in an array", "x = [" + strings.Repeat("{ a = [", deep), 1, "nested more than 16 deep"},
		{"dotted key", "[defaults]\n" + strings.Repeat("a.", deep) + "a = 1\n", 2, "key with more than 16 parts"},
		{"table header", "# a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a\n[" + strings.Repeat("a.", deep) + "a]\n", 2, "key with more than 16 parts"},
		{"array table header", "[[" + strings.Repeat("a.", deep) + "a]]\n", 1, "key with more than 16 parts"},
		{"key in inline table", "x = { " + strings.Repeat("a.", deep) + "a = 1 }\n", 1, "key with more than 16 parts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc := parseErrorCase{tc.name, tc.src, tc.line, "", tc.msg}
			f, err := ParseFile("jailsh.toml", []byte(tc.src))
			if f != nil {
				t.Errorf("ParseFile returned a policy with the error, want nil")
			}
			checkParseError(t, "jailsh.toml", tc, err)
		})
	}
}

// Brackets, braces and dots inside strings and comments, and floats, are
// not nesting.
func TestCheckNestingIgnoresStrings(t *testing.T) {
	src := `# [[[[[[[[[[[[[[[[[[[[ {{{{{{{{{{{{{{{{{{{{ a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a
a = "[[[[[[[[[[[[[[[[[[[[ {{{{{{{{{{{{{{{{{{ \" [[[[[[[[[[[ a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r"
b = '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ \'
c = """
[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[
a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a = 1
"""
d = '''
{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{ ''
'''
e = 1.5
f = [1.5, 2.5, 3.25, 4.125, 5.1, 6.1, 7.1, 8.1, 9.1, 10.1, 11.1, 12.1, 13.1, 14.1, 15.1, 16.1, 17.1, 18.1]
"g.g.g.g.g.g.g.g.g.g.g.g.g.g.g.g.g.g.g.g" = { "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a" = {}, b = [[], [{}]] }
[h."i.i.i.i.i.i.i.i.i.i.i.i.i.i.i.i.i.i.i".j]
k = 1
`
	if err := checkNesting("x.toml", []byte(src)); err != nil {
		t.Errorf("checkNesting: %v, want nil", err)
	}
	if _, err := decodeAny(src); err != nil {
		t.Fatalf("the test input is not valid TOML: %v", err)
	}
	// 16 levels are allowed, 17 are not.
	if err := checkNesting("x.toml", []byte("x = "+strings.Repeat("[", 16)+strings.Repeat("]", 16))); err != nil {
		t.Errorf("16 nested arrays: %v, want nil", err)
	}
	if err := checkNesting("x.toml", []byte("x = "+strings.Repeat("[", 17)+strings.Repeat("]", 17))); err == nil {
		t.Error("17 nested arrays: error = nil, want one")
	}
}

// decodeAny decodes src with no schema, to check that a test input is valid TOML.
func decodeAny(src string) (map[string]any, error) {
	var v map[string]any
	_, err := toml.Decode(src, &v)
	return v, err
}
