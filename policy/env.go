package policy

import (
	"fmt"
	"sort"
	"strings"
)

// deniedEnv lists variables that change how the dynamic loader, the shell
// or common libraries behave. They never cross into a jail, whatever the
// policy says, because the login environment is under the user's control
// (ssh SendEnv, PermitUserEnvironment, su without -).
var deniedEnv = []string{
	"LD_*", "BASH_ENV", "ENV", "BASH_FUNC_*", "IFS", "CDPATH", "GLOBIGNORE",
	"SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "GCONV_PATH", "LOCPATH",
	"MALLOC_*", "GLIBC_TUNABLES", "HOSTALIASES", "RESOLV_HOST_CONF", "NLSPATH",
	"TMPDIR", "PYTHON*", "PERL5LIB", "PERL5OPT", "PERLLIB", "RUBYLIB", "RUBYOPT",
	"NODE_OPTIONS", "JAVA_TOOL_OPTIONS",
}

// jailshEnv contains the variables that BuildEnv sets after applying env,
// so an env value for one would have no effect. Each maps to the end of
// the error message: where jailsh takes the value from, and the fix.
var jailshEnv = map[string]string{
	"HOME":    "from the user's passwd entry; remove it from env",
	"USER":    "to the user's name; remove it from env",
	"LOGNAME": "to the user's name; remove it from env",
	"SHELL":   "from the shell key; remove it from env and set shell instead",
	"PATH":    "from the path key; remove it from env and set path instead, like path = \"/usr/bin:/bin\"",
}

// DefaultKeepEnv is the login environment kept when a policy names none.
var DefaultKeepEnv = []string{"TERM", "COLORTERM", "LANG", "LANGUAGE", "LC_*", "TZ", "SSH_CLIENT", "SSH_CONNECTION"}

// DefaultPath is the PATH inside a jail when the policy sets none.
const DefaultPath = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

func matchEnv(pattern, name string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(name, prefix)
	}
	return pattern == name
}

func isDeniedEnv(name string) bool {
	for _, d := range deniedEnv {
		if matchEnv(d, name) {
			return true
		}
	}
	return false
}

func checkEnvName(name string) error {
	if name == "" {
		return fmt.Errorf("empty environment variable name")
	}
	for i, c := range name {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return fmt.Errorf("invalid environment variable name %q: use letters, digits and '_'", name)
		}
	}
	if fix, ok := jailshEnv[name]; ok {
		return fmt.Errorf("environment variable %q is set by jailsh %s", name, fix)
	}
	if isDeniedEnv(name) {
		return fmt.Errorf("environment variable %q may change how programs in the jail load or run, and is never passed into a jail", name)
	}
	return nil
}

// checkEnvPattern checks a keep_env entry: a name, or a prefix followed by '*'.
func checkEnvPattern(pattern string) error {
	name := strings.TrimSuffix(pattern, "*")
	if name == "" {
		return fmt.Errorf("invalid keep_env entry %q: name a variable or a prefix followed by '*'", pattern)
	}
	for _, c := range name {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return fmt.Errorf("invalid keep_env entry %q: use letters, digits, '_' and a final '*'", pattern)
		}
	}
	return nil
}

// BuildEnv returns the jail's environment, sorted: the fixed login
// variables, then login variables the keep patterns match, then the
// policy's own values. Denied variables are dropped from the login
// environment whatever the patterns say.
func BuildEnv(j *Jail, login []string) []string {
	env := map[string]string{}
	for _, kv := range login {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || isDeniedEnv(name) {
			continue
		}
		for _, p := range j.KeepEnv {
			if matchEnv(p, name) {
				env[name] = value
				break
			}
		}
	}
	for k, v := range j.Env {
		env[k] = v
	}
	env["HOME"] = j.User.Home
	env["USER"] = j.User.Name
	env["LOGNAME"] = j.User.Name
	env["SHELL"] = j.Shell
	env["PATH"] = j.Path
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
