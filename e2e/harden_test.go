package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestProcessHardening checks what the jail's root inherits: a seccomp
// filter, no_new_privs, and a trimmed bounding set.
func TestProcessHardening(t *testing.T) {
	r := ssh(t, "jse-alice", "", "grep -E '^(NoNewPrivs|Seccomp|CapBnd):' /proc/self/status")
	// The kernel prints CapBnd before NoNewPrivs and Seccomp.
	want := "CapBnd:\t00000000a82425ff\nNoNewPrivs:\t1\nSeccomp:\t2\n"
	if r.stdout != want {
		t.Errorf("status of a jailed process:\n%s\nwant:\n%s", r.stdout, want)
	}
}

// TestDeniedSyscalls calls system calls the filter denies, through perl's
// syscall(), and expects EPERM rather than a dead process.
func TestDeniedSyscalls(t *testing.T) {
	calls := map[string]int{"keyctl": 250, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425, "fsopen": 430}
	var script []string
	for name, nr := range calls {
		script = append(script, "syscall("+strconv.Itoa(nr)+", 0, 0, 0, 0, 0); print \""+name+"=\", $!+0, \"\\n\";")
	}
	r := ssh(t, "jse-alice", "", "perl -e '"+strings.Join(script, " ")+"'")
	for name := range calls {
		if !strings.Contains(r.stdout, name+"=1\n") {
			t.Errorf("%s in the jail: want errno 1 (EPERM); output %q", name, r.stdout)
		}
	}
}

// TestNestedUserNamespacesDenied guards against the jail creating user
// namespaces, and with them the kernel code that they open up.
func TestNestedUserNamespacesDenied(t *testing.T) {
	r := ssh(t, "jse-alice", "", "unshare -U true && echo CREATED")
	if strings.Contains(r.stdout, "CREATED") {
		t.Error("the jail created a nested user namespace; the default is none")
	}
	if !strings.Contains(r.stderr, "No space left on device") {
		t.Errorf("unshare -U: stderr %q, want the kernel's limit error", r.stderr)
	}
}

// TestProcMasked guards against /proc exposing host secrets or knobs.
// Which of these files a kernel has varies, so only those the host has
// are checked.
func TestProcMasked(t *testing.T) {
	var script []string
	for _, f := range []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"} {
		if _, err := os.Stat(f); err == nil {
			script = append(script, "echo "+f+" $(wc -c < "+f+")")
		}
	}
	script = append(script,
		"echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo SYSCTL-WRITTEN",
		"test -e /proc/sysrq-trigger && echo h > /proc/sysrq-trigger 2>/dev/null && echo SYSRQ-WRITTEN",
		"true")
	r := ssh(t, "jse-alice", "", strings.Join(script, "; "))
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || f[1] != "0" {
			t.Errorf("in the jail: %q; want every masked file empty and no knob written", line)
		}
	}
	if len(script) < 4 {
		t.Errorf("no masked /proc file exists on this host to check; add one the kernel has")
	}
}

// TestHardeningKeys sets each hardening key of the policy for one user
// and checks its effect in the jail, and that a weakened jail says so in
// its audit record.
func TestHardeningKeys(t *testing.T) {
	dave := lookup("jse-dave")
	cases := []struct {
		name, policy, script, want string
		weakened                   string
	}{
		{"own uid", `uid = "user"`, "id -u; grep CapEff /proc/self/status",
			strconv.Itoa(dave.uid) + "\nCapEff:\t0000000000000000\n", ""},
		{"resource limits", "[limits]\nopen_files = 64\ncore = 0\n", "ulimit -n; ulimit -c", "64\n0\n", ""},
		{"seccomp off", "seccomp = false", "grep Seccomp: /proc/self/status", "Seccomp:\t0\n", "weakened=seccomp:off"},
		{"syscall allowed", `syscalls_allowed = ["keyctl"]`,
			`perl -e 'print syscall(250, 0, -4, 0) >= 0 ? "allowed\n" : "denied\n"'`, "allowed\n", "weakened=syscalls_allowed:keyctl"},
		{"extra syscall denied", `syscalls_denied = ["getpid"]`,
			`perl -e 'print syscall(39) == -1 ? "denied\n" : "allowed\n"'`, "denied\n", ""},
		{"capabilities", `capabilities = ["chown", "CAP_NET_ADMIN"]`, "grep CapBnd /proc/self/status",
			"CapBnd:\t0000000000001001\n", "weakened=capabilities:net_admin"},
		{"nested user namespace", "user_namespaces = 1", "unshare -U true && echo one; unshare -U unshare -U true 2>/dev/null || echo not-two",
			"one\nnot-two\n", "weakened=user_namespaces:1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			withFile(t, "users.d/jse-dave.toml", c.policy+"\n")
			r := ssh(t, "jse-dave", "", c.script)
			if r.stdout != c.want {
				t.Errorf("with %s: %v; want stdout %q", c.policy, r, c.want)
			}
			if c.weakened != "" {
				env.log.wait(t, "event=start", "user=jse-dave", c.weakened)
			}
		})
	}
}

// TestHardeningKeysRejectUnknownNames guards against a typo in a list of
// system calls or capabilities silently dropping a restriction.
func TestHardeningKeysRejectUnknownNames(t *testing.T) {
	for _, bad := range []string{`syscalls_denied = ["keyctll"]`, `capabilities = ["sys_admn"]`, `uid = "nobody"`, "user_namespaces = -1"} {
		withFile(t, "users.d/jse-dave.toml", bad+"\n")
		r := ssh(t, "jse-dave", "", "echo SHELL-RAN")
		if r.code != 1 || strings.Contains(r.stdout, "SHELL-RAN") || !strings.Contains(r.stderr, "jse-dave.toml:1") {
			t.Errorf("policy %s: %v; want a refusal naming the file and line", bad, r)
		}
	}
}
