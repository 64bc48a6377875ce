package policy

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/jailsh/jailsh/internal/sysnum"
)

// DefaultDeniedSyscalls are the system calls a jailed shell has no use
// for: kernel keyrings, BPF, performance counters, userfaultfd, kexec and
// modules, the new mount API, io_uring, and calls that act on the whole
// machine. A denied call fails with EPERM, so tools degrade instead of
// dying.
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
// architecture.
func checkSyscallName(name string) error {
	if _, ok := sysnum.Number(name); !ok {
		return fmt.Errorf("unknown system call %q on %s: see syscalls(2) for the names", name, runtime.GOARCH)
	}
	return nil
}

// SyscallList is a list of system call names of this machine's
// architecture.
type SyscallList []string

// UnmarshalTOML implements toml.Unmarshaler.
func (l *SyscallList) UnmarshalTOML(value any) error {
	names, err := stringList(value, `syscalls_denied = ["keyctl", "bpf"]`)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := checkSyscallName(n); err != nil {
			return err
		}
	}
	*l = names
	return nil
}

// CapabilityList is a list of capability names, stored in lower case
// without the CAP_ prefix.
type CapabilityList []string

// UnmarshalTOML implements toml.Unmarshaler.
func (l *CapabilityList) UnmarshalTOML(value any) error {
	names, err := stringList(value, `capabilities = ["chown", "kill"]`)
	if err != nil {
		return err
	}
	for i, n := range names {
		c, err := CapabilityNumber(n)
		if err != nil {
			return err
		}
		names[i] = CapabilityNames[c]
	}
	*l = names
	return nil
}

func stringList(value any, example string) ([]string, error) {
	list, ok := value.([]any)
	if !ok {
		return nil, fmt.Errorf("invalid type: want a list of strings, like %s, got %s", example, describeValue(value))
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		s, err := stringValue(v, example)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// UIDMode is the uid the user has inside the jail: root, or their own.
type UIDMode string

const (
	// UIDRoot maps the user to root inside; this is the default.
	UIDRoot UIDMode = "root"
	// UIDUser keeps the user's own uid and gid inside, without
	// capabilities.
	UIDUser UIDMode = "user"
)

// UnmarshalTOML implements toml.Unmarshaler.
func (m *UIDMode) UnmarshalTOML(value any) error {
	s, err := stringValue(value, `uid = "user"`)
	if err != nil {
		return err
	}
	switch v := UIDMode(s); v {
	case UIDRoot, UIDUser:
		*m = v
		return nil
	}
	return fmt.Errorf("invalid uid %q: use \"root\" or \"user\"", s)
}

// MaxUserNamespaces bounds user_namespaces, well below what the kernel's
// user.max_user_namespaces accepts.
const MaxUserNamespaces = 1024

// Count is a non-negative whole number, such as a limit.
type Count int64

// UnmarshalTOML implements toml.Unmarshaler.
func (c *Count) UnmarshalTOML(value any) error {
	n, ok := value.(int64)
	if !ok {
		return fmt.Errorf("invalid type: want a whole number, like processes = 256, got %s", describeValue(value))
	}
	if n < 0 {
		return fmt.Errorf("invalid value %d: must be 0 or more", n)
	}
	*c = Count(n)
	return nil
}

// Limits are resource limits (setrlimit(2)) on every process of a jail.
// An unset limit keeps what the login had.
type Limits struct {
	Processes    *Count `toml:"processes"`     // RLIMIT_NPROC; see Jail.Limits
	OpenFiles    *Count `toml:"open_files"`    // RLIMIT_NOFILE
	FileSize     *Count `toml:"file_size"`     // RLIMIT_FSIZE, bytes
	CPUTime      *Count `toml:"cpu_time"`      // RLIMIT_CPU, seconds
	AddressSpace *Count `toml:"address_space"` // RLIMIT_AS, bytes
	Core         *Count `toml:"core"`          // RLIMIT_CORE, bytes
}

// limitField returns a getter of one limit of a layer, for the merge.
func limitField(get func(*Limits) *Count) func(*Settings) *Count {
	return func(s *Settings) *Count {
		if s.Limits == nil {
			return nil
		}
		return get(s.Limits)
	}
}

// Weakenings returns what in j weakens the isolation that jailsh gives by
// default, as KEY:VALUE items for the audit record and `jailctl check`.
func (j *Jail) Weakenings() []string {
	var out []string
	if !j.Seccomp {
		out = append(out, "seccomp:off")
	} else {
		// A default name may leave the filter through syscalls_allowed or
		// through a syscalls_denied list without it; both weaken it.
		denied := j.DeniedSyscalls()
		var allowed []string
		for _, n := range DefaultDeniedSyscalls {
			if !slicesContains(denied, n) {
				allowed = append(allowed, n)
			}
		}
		if len(allowed) > 0 {
			out = append(out, "syscalls_allowed:"+strings.Join(allowed, "+"))
		}
	}
	var extra []string
	for _, c := range j.Capabilities {
		if !slicesContains(DefaultCapabilities, c) {
			extra = append(extra, c)
		}
	}
	if len(extra) > 0 {
		out = append(out, "capabilities:"+strings.Join(extra, "+"))
	}
	if j.UserNamespaces > 0 {
		out = append(out, fmt.Sprintf("user_namespaces:%d", j.UserNamespaces))
	}
	return out
}

func slicesContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// DeniedSyscalls returns the system calls j's filter denies: the denied
// list without the allowed names.
func (j *Jail) DeniedSyscalls() []string {
	var out []string
	for _, n := range j.SyscallsDenied {
		if !slicesContains(j.SyscallsAllowed, n) {
			out = append(out, n)
		}
	}
	return out
}
