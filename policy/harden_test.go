package policy

import (
	"strings"
	"testing"
)

func TestCapabilityNumber(t *testing.T) {
	cases := []struct {
		name string
		want int
	}{
		{"chown", 0}, {"CAP_CHOWN", 0}, {"net_admin", 12}, {"CAP_SYS_ADMIN", 21}, {"checkpoint_restore", 40},
	}
	for _, c := range cases {
		got, err := CapabilityNumber(c.name)
		if err != nil || got != c.want {
			t.Errorf("CapabilityNumber(%q) = %d, %v; want %d", c.name, got, err, c.want)
		}
	}
	if _, err := CapabilityNumber("cap_fly"); err == nil {
		t.Error("CapabilityNumber(cap_fly): want an error for an unknown name")
	}
}

func TestDefaultsAreKnown(t *testing.T) {
	for _, n := range DefaultDeniedSyscalls {
		if err := checkSyscallName(n); err != nil {
			t.Errorf("default denied system call: %v", err)
		}
	}
	for _, c := range DefaultCapabilities {
		if _, err := CapabilityNumber(c); err != nil {
			t.Errorf("default capability: %v", err)
		}
	}
	if err := checkSyscallName("no_such_call"); err == nil {
		t.Error("checkSyscallName(no_such_call): want an error")
	}
}

func TestWeakenings(t *testing.T) {
	base := func() *Jail {
		return &Jail{Seccomp: true, SyscallsDenied: DefaultDeniedSyscalls, Capabilities: DefaultCapabilities}
	}
	cases := []struct {
		name   string
		change func(j *Jail)
		want   string
	}{
		{"defaults weaken nothing", func(j *Jail) {}, ""},
		{"seccomp off", func(j *Jail) { j.Seccomp = false }, "seccomp:off"},
		{"allowed call", func(j *Jail) { j.SyscallsAllowed = []string{"keyctl"} }, "syscalls_allowed:keyctl"},
		{"denied list without a default", func(j *Jail) { j.SyscallsDenied = []string{"bpf"} }, "syscalls_allowed:"},
		{"denied list with more than the defaults", func(j *Jail) {
			j.SyscallsDenied = append(append([]string{}, DefaultDeniedSyscalls...), "ptrace")
		}, ""},
		{"extra capability", func(j *Jail) { j.Capabilities = []string{"chown", "net_admin"} }, "capabilities:net_admin"},
		{"nested namespaces", func(j *Jail) { j.UserNamespaces = 2 }, "user_namespaces:2"},
	}
	for _, c := range cases {
		j := base()
		c.change(j)
		got := strings.Join(j.Weakenings(), ",")
		if c.want == "" && got != "" || !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: Weakenings = %q, want %q", c.name, got, c.want)
		}
	}
}
