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
