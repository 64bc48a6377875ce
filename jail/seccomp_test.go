package jail

import (
	"encoding/binary"
	"testing"

	"github.com/jailsh/jailsh/internal/sysnum"
	"github.com/jailsh/jailsh/policy"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// runFilter runs the seccomp filter for one system call in x/net/bpf's
// interpreter. The interpreter loads words big-endian, so the fields of
// struct seccomp_data are written that way.
func runFilter(t *testing.T, filter []unix.SockFilter, nr int, auditArch uint32) uint32 {
	t.Helper()
	raw := make([]bpf.RawInstruction, len(filter))
	for i, f := range filter {
		raw[i] = bpf.RawInstruction{Op: f.Code, Jt: f.Jt, Jf: f.Jf, K: f.K}
	}
	insts, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("filter does not disassemble")
	}
	vm, err := bpf.NewVM(insts)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 64)
	binary.BigEndian.PutUint32(data[0:], uint32(nr))
	binary.BigEndian.PutUint32(data[4:], auditArch)
	ret, err := vm.Run(data)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(ret)
}

func TestSeccompFilter(t *testing.T) {
	native := uint32(sysnum.AuditArch)
	filter, err := seccompFilter(policy.DefaultDeniedSyscalls)
	if err != nil {
		t.Fatal(err)
	}
	eperm := unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	cases := []struct {
		name string
		call string
		arch uint32
		want uint32
	}{
		{"keyring call denied", "keyctl", native, eperm},
		{"bpf denied", "bpf", native, eperm},
		{"new mount API denied", "fsopen", native, eperm},
		{"io_uring denied", "io_uring_setup", native, eperm},
		{"last of the list denied", "vhangup", native, eperm},
		{"read allowed", "read", native, unix.SECCOMP_RET_ALLOW},
		{"clone allowed", "clone", native, unix.SECCOMP_RET_ALLOW},
		{"mount allowed in own namespaces", "mount", native, unix.SECCOMP_RET_ALLOW},
		{"other architecture denied", "read", unix.AUDIT_ARCH_I386, eperm},
	}
	for _, c := range cases {
		nr, ok := sysnum.Number(c.call)
		if !ok {
			t.Fatalf("%s: no number for %s", c.name, c.call)
		}
		if got := runFilter(t, filter, int(nr), c.arch); got != c.want {
			t.Errorf("%s: filter returns %#x, want %#x", c.name, got, c.want)
		}
	}
}

func TestSeccompFilterX32Denied(t *testing.T) {
	if sysnum.AuditArch != unix.AUDIT_ARCH_X86_64 {
		t.Skip("the x32 ABI exists on x86-64 only")
	}
	filter, err := seccompFilter(policy.DefaultDeniedSyscalls)
	if err != nil {
		t.Fatal(err)
	}
	nr, _ := sysnum.Number("read")
	if got := runFilter(t, filter, int(nr)|x32SyscallBit, unix.AUDIT_ARCH_X86_64); got != unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM) {
		t.Errorf("x32 read: filter returns %#x, want EPERM", got)
	}
}

func TestSeccompFilterLongList(t *testing.T) {
	// More names than an 8-bit jump could skip over.
	var names []string
	for _, n := range []string{"keyctl", "bpf", "ptrace", "mount", "umount2", "unshare", "setns", "pivot_root"} {
		for range 50 {
			names = append(names, n)
		}
	}
	names = append(names, "no_such_call")
	filter, err := seccompFilter(names)
	if err != nil {
		t.Fatal(err)
	}
	native := uint32(sysnum.AuditArch)
	for _, call := range []string{"keyctl", "pivot_root"} {
		nr, _ := sysnum.Number(call)
		if got := runFilter(t, filter, int(nr), native); got != unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM) {
			t.Errorf("%s: filter returns %#x, want EPERM", call, got)
		}
	}
	nr, _ := sysnum.Number("read")
	if got := runFilter(t, filter, int(nr), native); got != unix.SECCOMP_RET_ALLOW {
		t.Errorf("read: filter returns %#x, want allow", got)
	}
}
