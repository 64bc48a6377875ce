package jail

import (
	"encoding/binary"
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
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
	info, err := arch.GetInfo("")
	if err != nil {
		t.Fatal(err)
	}
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
		{"keyring call denied", "keyctl", uint32(info.ID), eperm},
		{"bpf denied", "bpf", uint32(info.ID), eperm},
		{"new mount API denied", "fsopen", uint32(info.ID), eperm},
		{"io_uring denied", "io_uring_setup", uint32(info.ID), eperm},
		{"read allowed", "read", uint32(info.ID), unix.SECCOMP_RET_ALLOW},
		{"clone allowed", "clone", uint32(info.ID), unix.SECCOMP_RET_ALLOW},
		{"mount allowed in own namespaces", "mount", uint32(info.ID), unix.SECCOMP_RET_ALLOW},
		{"other architecture denied", "read", uint32(arch.I386.ID), eperm},
	}
	for _, c := range cases {
		nr, ok := info.SyscallNames[c.call]
		if !ok {
			t.Fatalf("%s: no number for %s", c.name, c.call)
		}
		if got := runFilter(t, filter, nr, c.arch); got != c.want {
			t.Errorf("%s: filter returns %#x, want %#x", c.name, got, c.want)
		}
	}
}
