package policy

import (
	"fmt"
	"strings"

	"github.com/elastic/go-seccomp-bpf/arch"
)

// DefaultDeniedSyscalls are the system calls a jailed shell has no use
// for, in the spirit of Docker's default profile (moby profiles/seccomp,
// default.json): kernel keyrings, BPF, performance counters, userfaultfd,
// kexec and modules, the new mount API, io_uring, and calls that act on
// the whole machine. A denied call fails with EPERM, so tools degrade
// instead of dying.
var DefaultDeniedSyscalls = []string{
	"add_key", "keyctl", "request_key",
	"bpf", "perf_event_open", "userfaultfd",
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"fsopen", "fsconfig", "fsmount", "fspick", "open_tree", "move_mount",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"open_by_handle_at", "name_to_handle_at",
	"acct", "swapon", "swapoff", "reboot", "syslog", "quotactl", "lookup_dcookie",
	"iopl", "ioperm", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"uselib", "vhangup",
}

// CapabilityNames are the capabilities of Linux 6.x by number, without the
// CAP_ prefix, in lower case as capabilities(7) writes them.
var CapabilityNames = []string{
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill",
	"setgid", "setuid", "setpcap", "linux_immutable", "net_bind_service",
	"net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
	"sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
	"sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time",
	"sys_tty_config", "mknod", "lease", "audit_write", "audit_control",
	"setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
	"block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
}

// DefaultCapabilities are kept in the bounding set of a jail's root: what
// a root shell uses on its own files and processes, plus sys_admin, so
// that root may mount and unshare in namespaces of its own. The rest act
// on the machine, or on network namespaces, and have no use in a jail.
var DefaultCapabilities = []string{
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill",
	"setgid", "setuid", "setpcap", "setfcap", "net_bind_service", "net_raw",
	"sys_chroot", "sys_admin", "mknod", "audit_write",
}

// CapabilityNumber returns the number of a capability named like
// "net_raw" or "CAP_NET_RAW".
func CapabilityNumber(name string) (int, error) {
	n := strings.TrimPrefix(strings.ToLower(name), "cap_")
	for i, c := range CapabilityNames {
		if c == n {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown capability %q: see capabilities(7) for the names", name)
}

// checkSyscallName checks that name is a system call of this machine's
// architecture, as the seccomp filter's tables know them.
func checkSyscallName(name string) error {
	info, err := arch.GetInfo("")
	if err != nil {
		return err
	}
	if _, ok := info.SyscallNames[name]; !ok {
		return fmt.Errorf("unknown system call %q on %s: see syscalls(2) for the names", name, info.Name)
	}
	return nil
}
