// Package jail builds and runs jails: the namespaces, the mounts, the
// jail's init process and the session around it.
//
// A session has two processes of jailsh's own. The outer one runs on the
// host as the user, starts the jail and waits for it. The jail's init is
// the same binary, started again in new user, mount, PID, UTS, IPC and
// (optionally) network namespaces as PID 1. It builds the root from the
// mount plan, pivots into it, starts the program and reaps orphans.
//
// A shared jail, and a private one that root entered with jailctl enter,
// has a third: the zygote, which starts every session that joins the
// running jail. join.go describes how sessions reach it.
package jail

import (
	"errors"
	"io/fs"
	"os"
	"sort"
	"time"

	"github.com/jailsh/jailsh/policy"
	"golang.org/x/sys/unix"
)

// Spec is everything the jail's init needs, sent to it as JSON over a
// socket. It is built by the outer process from the effective policy.
type Spec struct {
	Root         string // host path of the root filesystem; empty with RootTmpfs
	RootTmpfs    bool
	RootReadOnly bool
	Binds        []Bind
	Home         string // host home folder, bound at the same path; empty for none
	Hostname     string
	NewNetwork   bool

	// Shared makes the jail outlive its first program: its init starts a
	// session for every login that joins, and ends Linger after the last
	// one left.
	Shared bool
	Linger time.Duration
	// Shell is the jail's login shell, which jailctl enter runs when it is
	// given no command.
	Shell string
	// User names the jail's owner in the record of a shared jail's end.
	User string
	// HostPID is the init's PID on the host, which the init cannot see
	// itself; the outer process sets it once the init runs.
	HostPID int
	// PolicyTime is the newest change time, in Unix nanoseconds, of the
	// files that made the spec: the policy files and the account
	// databases. Of two shared jails of a user, the one with the older
	// time is superseded (server.supersede). Zero, as from jailctl run,
	// supersedes nothing.
	PolicyTime int64 `json:"policy_time,omitempty"`
	// AuditLog, when set, is a socket connected to syslog that a shared
	// jail's init inherits, to record the jail's end after its last
	// session left. It is passed as a descriptor, not in the JSON.
	AuditLog *os.File `json:"-"`

	// Program to run inside. Path is absolute or looked up in the PATH of
	// Env, and Argv[0] is the name the program gets as its own.
	Path string
	Argv []string
	Env  []string
	Dir  string // working folder inside; "/" when it does not exist

	// Hardening of the program, applied by the init last before it starts.
	DeniedSyscalls []string // denied with EPERM by a seccomp filter; none: no filter
	Capabilities   []string // kept in the bounding set; all others are dropped
	UserNamespaces int      // user namespaces the jail's processes may create
	Rlimits        []Rlimit
	// KeepUID runs the program as the user's own uid and gid (UID, GID),
	// without capabilities, instead of as root.
	KeepUID  bool
	UID, GID int

	// TTY, when set, gives the program a pseudo-terminal of the jail's own
	// with this size, which jailsh relays to the login terminal. Without
	// it the program gets jailsh's stdin, stdout and stderr as they are.
	TTY *WinSize
}

// WinSize is a terminal's size in characters.
type WinSize struct {
	Rows, Cols uint16
}

// Bind is a bind mount from the host into the jail.
type Bind struct {
	Source   string
	Target   string
	ReadOnly bool
}

// NewSpec returns the Spec for running argv (argv[0] is the program) in
// the jail j, with env as the program's environment.
func NewSpec(j *policy.Jail, path string, argv, env []string) *Spec {
	s := &Spec{
		Capabilities:   j.Capabilities,
		UserNamespaces: j.UserNamespaces,
		KeepUID:        j.KeepUID,
		Rlimits:        rlimits(j.Limits),
		UID:            j.User.UID,
		GID:            j.User.GID,
		RootReadOnly:   j.RootReadOnly,
		Hostname:       j.Hostname,
		NewNetwork:     j.Network != policy.NetworkHost,
		Shared:         j.Session == policy.SessionShared,
		Linger:         j.Linger,
		Shell:          j.Shell,
		User:           j.User.Name,
		Path:           path,
		Argv:           argv,
		Env:            env,
		Dir:            "/",
	}
	if j.Seccomp {
		s.DeniedSyscalls = j.DeniedSyscalls()
	}
	if j.Root == policy.RootTmpfs {
		s.RootTmpfs = true
	} else {
		s.Root = j.Root
	}
	for _, m := range j.Mounts {
		if m.Optional && !exists(string(m.Source)) {
			continue
		}
		s.Binds = append(s.Binds, Bind{Source: string(m.Source), Target: string(m.Target), ReadOnly: m.Mode != policy.ReadWrite})
	}
	if j.Home && j.User.Home != "" && j.User.Home != "/" {
		s.Home = j.User.Home
		s.Dir = j.User.Home
	}
	return s
}

// exists reports whether an optional mount's source is there. Only a
// missing path counts as absent: a source the user may not reach is kept,
// so that its mount fails and refuses the login, rather than vanishing.
func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// rlimitResources maps the keys under [limits] to setrlimit(2) resources.
var rlimitResources = map[string]int{
	"processes":     unix.RLIMIT_NPROC,
	"open_files":    unix.RLIMIT_NOFILE,
	"file_size":     unix.RLIMIT_FSIZE,
	"cpu_time":      unix.RLIMIT_CPU,
	"address_space": unix.RLIMIT_AS,
	"core":          unix.RLIMIT_CORE,
}

// rlimits returns the resource limits of a policy's [limits], soft and
// hard alike, in a fixed order.
func rlimits(limits map[string]int64) []Rlimit {
	keys := make([]string, 0, len(limits))
	for k := range limits {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Rlimit
	for _, k := range keys {
		if res, ok := rlimitResources[k]; ok {
			out = append(out, Rlimit{Resource: res, Cur: uint64(limits[k]), Max: uint64(limits[k])})
		}
	}
	return out
}
