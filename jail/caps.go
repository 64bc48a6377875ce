package jail

import (
	"fmt"
	"strings"
)

// capNames are the capabilities of Linux 6.x by number, without the CAP_
// prefix, in lower case as capabilities(7) writes them.
var capNames = []string{
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
// on the machine and have no use in a jail.
var DefaultCapabilities = []string{
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill",
	"setgid", "setuid", "setpcap", "setfcap", "net_bind_service", "net_raw",
	"sys_chroot", "sys_admin", "mknod", "audit_write",
}

// CapabilityNumber returns the number of a capability named like
// "net_raw" or "CAP_NET_RAW".
func CapabilityNumber(name string) (int, error) {
	n := strings.TrimPrefix(strings.ToLower(name), "cap_")
	for i, c := range capNames {
		if c == n {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown capability %q: see capabilities(7) for the names", name)
}
