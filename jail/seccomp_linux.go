package jail

import (
	"fmt"
	"runtime"
	"slices"
	"unsafe"

	"github.com/jailsh/jailsh/internal/sysnum"
	"golang.org/x/sys/unix"
)

// x32SyscallBit marks the system calls of the x32 ABI on x86-64, which
// share the architecture of native calls in seccomp_data.
const x32SyscallBit = 0x40000000

// Offsets in struct seccomp_data.
const (
	seccompNR   = 0
	seccompArch = 4
)

// seccompFilter assembles a classic BPF filter that denies the system
// calls names with EPERM and allows every other. Calls made through
// another architecture's entry (int 0x80 on x86-64) and the x32 ABI are
// denied whole, since the numbers below are those of the native calls.
// Names unknown on this architecture are left out.
//
// Each denied number is a test followed by its own return, so that no
// jump is longer than one instruction, however long the list. Every
// result depends on the architecture and the number alone, so the kernel
// caches it per system call and runs the program for none of them.
func seccompFilter(names []string) ([]unix.SockFilter, error) {
	if sysnum.AuditArch == 0 {
		return nil, fmt.Errorf("no seccomp filter for architecture %s: set seccomp = false in the policy", runtime.GOARCH)
	}
	var nrs []uint32
	for _, n := range names {
		if nr, ok := sysnum.Number(n); ok {
			nrs = append(nrs, nr)
		}
	}
	slices.Sort(nrs)
	nrs = slices.Compact(nrs)

	deny := bpfStmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM))
	prog := []unix.SockFilter{
		bpfStmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompArch),
		bpfJump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, uint32(sysnum.AuditArch), 1, 0),
		deny,
		bpfStmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompNR),
	}
	if runtime.GOARCH == "amd64" {
		prog = append(prog, bpfJump(unix.BPF_JMP|unix.BPF_JGE|unix.BPF_K, x32SyscallBit, 0, 1), deny)
	}
	for _, nr := range nrs {
		prog = append(prog, bpfJump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, nr, 0, 1), deny)
	}
	prog = append(prog, bpfStmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ALLOW))
	if len(prog) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("seccomp filter for %d system calls has %d instructions, more than the kernel's %d", len(nrs), len(prog), unix.BPF_MAXINSNS)
	}
	return prog, nil
}

func bpfStmt(code uint16, k uint32) unix.SockFilter {
	return unix.SockFilter{Code: code, K: k}
}

func bpfJump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

// loadSeccomp installs the filter on every thread of the calling process,
// with no_new_privs, which the kernel then also sets on every thread.
// Runs in the jail's init, last before the program starts.
func loadSeccomp(names []string) error {
	filter, err := seccompFilter(names)
	if err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	if errno != 0 {
		return fmt.Errorf("load seccomp filter: %w", errno)
	}
	return nil
}
