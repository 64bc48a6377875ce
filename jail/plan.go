package jail

import (
	"fmt"
	"path"
	"strings"
)

// Op is the kind of one setup step. Its text is what `jailctl check
// --user` prints.
type Op string

const (
	OpMakePrivate Op = "make-rprivate" // stop mounts propagating to the host
	OpRootBind    Op = "bind-root"     // bind the root filesystem onto itself
	OpRootTmpfs   Op = "tmpfs-root"    // an empty tmpfs as the root
	OpTmpfs       Op = "tmpfs"
	OpProc        Op = "proc"
	OpDevpts      Op = "devpts"
	OpBind        Op = "bind"
	OpDevice      Op = "bind-device" // bind one of the host's device nodes
	OpSymlink     Op = "symlink"
	OpRootRO      Op = "remount-root-ro" // a tmpfs root, once filled
	OpPivot       Op = "pivot-root"      // pivot into the root and detach the old one
	OpMask        Op = "mask"            // cover with /dev/null, or an empty read-only tmpfs
	OpReadOnly    Op = "read-only"       // bind onto itself, read-only
)

// Step is one typed setup operation. Targets are paths inside the jail.
type Step struct {
	Op       Op
	Source   string // host path for binds, link text for symlinks
	Target   string
	Data     string // file system options for tmpfs
	ReadOnly bool
	Create   bool // create a missing target, as a folder or (File) a file
	File     bool
	Optional bool // skip the step when the target does not exist
}

func (s Step) String() string {
	var b strings.Builder
	b.WriteString(string(s.Op))
	if s.Source != "" {
		b.WriteString(" " + s.Source)
	}
	if s.Target != "" {
		b.WriteString(" " + s.Target)
	}
	if s.Data != "" {
		b.WriteString(" " + s.Data)
	}
	if s.ReadOnly {
		b.WriteString(" ro")
	}
	if s.Create {
		b.WriteString(" create")
	}
	if s.Optional {
		b.WriteString(" optional")
	}
	return b.String()
}

// procMasked and procReadOnly are the parts of /proc that container
// runtimes hide or make read-only (runc's defaults, as Docker uses them):
// kernel memory, keys, timers and scheduler state, and the knobs that act
// on the whole machine. Many are closed to a user namespace already; the
// masks hold whatever a kernel version exposes.
var (
	procMasked = []string{
		"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
		"/proc/latency_stats", "/proc/timer_stats", "/proc/acpi", "/proc/scsi", "/proc/asound",
	}
	procReadOnly = []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"}
)

// deviceNodes are bound from the host into the jail's /dev.
var deviceNodes = []string{"null", "zero", "full", "random", "urandom", "tty"}

var devSymlinks = [][2]string{
	{"pts/ptmx", "/dev/ptmx"},
	{"/proc/self/fd", "/dev/fd"},
	{"/proc/self/fd/0", "/dev/stdin"},
	{"/proc/self/fd/1", "/dev/stdout"},
	{"/proc/self/fd/2", "/dev/stderr"},
}

// planner tracks the mounts planned so far, to tell which targets lie on a
// tmpfs of the jail's own and so may be created.
type planner struct {
	steps []Step
	tmpfs map[string]bool // mount point -> is a tmpfs of the jail's own
}

func (p *planner) add(s Step) {
	p.steps = append(p.steps, s)
	switch s.Op {
	case OpRootTmpfs:
		p.tmpfs["/"] = true
	case OpRootBind:
		p.tmpfs["/"] = false
	case OpTmpfs:
		p.tmpfs[s.Target] = true
	case OpProc, OpDevpts, OpBind, OpDevice:
		p.tmpfs[s.Target] = false
	}
}

// creatable reports whether target lies on a tmpfs planned so far, where
// jailsh may create it. Elsewhere it must already exist.
func (p *planner) creatable(target string) bool {
	for dir := target; ; dir = path.Dir(dir) {
		if tmpfs, ok := p.tmpfs[dir]; ok {
			return tmpfs
		}
		if dir == "/" {
			return false
		}
	}
}

// Plan turns a Spec into the ordered list of setup steps. It makes no
// system call, so it is tested without privilege.
func Plan(s *Spec) ([]Step, error) {
	if err := checkSpec(s); err != nil {
		return nil, err
	}
	p := &planner{tmpfs: map[string]bool{}}

	// Mounts made from here on must not reach the host's namespace.
	p.add(Step{Op: OpMakePrivate, Target: "/"})
	if s.RootTmpfs {
		p.add(Step{Op: OpRootTmpfs, Data: "mode=0755"})
	} else {
		// A root filesystem is made read-only with every mount the host
		// has below it, before the jail's own mounts go on top.
		p.add(Step{Op: OpRootBind, Source: s.Root, ReadOnly: s.RootReadOnly})
	}

	p.add(Step{Op: OpProc, Target: "/proc", Create: p.creatable("/proc")})
	for _, t := range procMasked {
		p.add(Step{Op: OpMask, Source: "/dev/null", Target: t, Optional: true})
	}
	for _, t := range procReadOnly {
		p.add(Step{Op: OpReadOnly, Target: t, Optional: true})
	}
	p.add(Step{Op: OpTmpfs, Target: "/dev", Data: "mode=0755", Create: p.creatable("/dev")})
	for _, n := range deviceNodes {
		p.add(Step{Op: OpDevice, Source: "/dev/" + n, Target: "/dev/" + n, Create: true, File: true})
	}
	p.add(Step{Op: OpDevpts, Target: "/dev/pts", Data: "newinstance,ptmxmode=0666,mode=0620", Create: true})
	p.add(Step{Op: OpTmpfs, Target: "/dev/shm", Data: "mode=1777", Create: true})
	for _, l := range devSymlinks {
		p.add(Step{Op: OpSymlink, Source: l[0], Target: l[1]})
	}
	p.add(Step{Op: OpTmpfs, Target: "/tmp", Data: "mode=1777", Create: p.creatable("/tmp")})

	if s.Home != "" {
		p.planHome(s.Home)
	}
	for _, b := range s.Binds {
		p.add(Step{Op: OpBind, Source: b.Source, Target: b.Target, ReadOnly: b.ReadOnly, Create: p.creatable(b.Target)})
	}

	// A tmpfs root is filled first and made read-only last.
	if s.RootTmpfs && s.RootReadOnly {
		p.add(Step{Op: OpRootRO})
	}
	p.add(Step{Op: OpPivot})
	return p.steps, nil
}

// planHome binds the home folder at its host path. A root filesystem
// rarely has the user's home folder in it, and jailsh cannot create one in
// a root-owned tree, so the home's parent (such as /home) is covered with
// an empty tmpfs that holds only this user's home. That also hides any
// other homes the root filesystem may have.
func (p *planner) planHome(home string) {
	if !p.creatable(home) {
		if parent := path.Dir(home); parent != "/" {
			p.add(Step{Op: OpTmpfs, Target: parent, Data: "mode=0755", Create: p.creatable(parent)})
		}
	}
	p.add(Step{Op: OpBind, Source: home, Target: home, Create: p.creatable(home)})
}

func checkSpec(s *Spec) error {
	if s.RootTmpfs == (s.Root != "") {
		return fmt.Errorf("spec needs exactly one of a root path and a tmpfs root")
	}
	paths := []string{s.Home}
	if !s.RootTmpfs {
		paths = append(paths, s.Root)
	}
	for _, b := range s.Binds {
		paths = append(paths, b.Source, b.Target)
	}
	for _, p := range paths {
		if p != "" && (!path.IsAbs(p) || path.Clean(p) != p) {
			return fmt.Errorf("path %q is not absolute and clean", p)
		}
	}
	if s.Home != "" {
		for _, b := range s.Binds {
			if b.Target == s.Home || strings.HasPrefix(s.Home, b.Target+"/") || b.Target == "/" {
				return fmt.Errorf("mount target %s would cover the home folder %s; choose another target, or set home = false", b.Target, s.Home)
			}
		}
	}
	return nil
}
