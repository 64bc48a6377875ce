package jail

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// tmpfsStaging is the folder on which a tmpfs root is built, in the init's
// private mount namespace. Every bind source is opened before the first
// mount, so what this mount covers is never needed again.
const tmpfsStaging = "/tmp"

// mountError names every argument of a failed mount by name.
type mountError struct {
	op     string
	source string
	target string
	fstype string
	flags  uintptr
	data   string
	err    error
}

func (e *mountError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", e.op)
	if e.source != "" {
		fmt.Fprintf(&b, " %s", e.source)
	}
	fmt.Fprintf(&b, " on %s", e.target)
	if e.fstype != "" {
		fmt.Fprintf(&b, " (type %s)", e.fstype)
	}
	if e.flags != 0 {
		fmt.Fprintf(&b, " flags=%#x", e.flags)
	}
	if e.data != "" {
		fmt.Fprintf(&b, " data=%q", e.data)
	}
	fmt.Fprintf(&b, ": %v", e.err)
	if hint := mountHint(e); hint != "" {
		b.WriteString(" (" + hint + ")")
	}
	return b.String()
}

func (e *mountError) Unwrap() error { return e.err }

// mountHint explains errnos whose usual meaning misleads.
func mountHint(e *mountError) string {
	switch {
	case e.fstype == "proc" && errors.Is(e.err, unix.EPERM):
		return "the host's /proc has paths covered by other mounts, as inside many containers; the kernel then refuses a new /proc"
	case errors.Is(e.err, unix.ENOSPC):
		return "too many mounts: see /proc/sys/fs/mount-max"
	case e.op == "pivot_root" && errors.Is(e.err, unix.EINVAL):
		return "the new root is not a mount point, or a mount is shared"
	}
	return ""
}

// builder executes a mount plan. It runs in the jail's init, as root of
// the new user namespace, in the new mount namespace.
type builder struct {
	staging string              // path of the new root in this namespace
	rootFD  int                 // the new root's mount, once made
	sources map[string]*os.File // O_PATH handles on bind sources
}

// buildRoot walks steps. Bind sources are opened first, so that later
// mounts cannot change what a source path names.
func buildRoot(s *Spec, steps []Step) error {
	b := &builder{staging: s.Root, rootFD: -1, sources: map[string]*os.File{}}
	if s.RootTmpfs {
		b.staging = tmpfsStaging
	}
	defer b.close()
	for _, st := range steps {
		if st.Op != OpRootBind && st.Op != OpBind && st.Op != OpDevice && st.Op != OpMask {
			continue
		}
		if _, ok := b.sources[st.Source]; ok {
			continue
		}
		f, err := os.OpenFile(st.Source, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open mount source: %w", err)
		}
		b.sources[st.Source] = f
	}
	for _, st := range steps {
		if err := b.do(st); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) close() {
	for _, f := range b.sources {
		f.Close()
	}
	if b.rootFD >= 0 {
		unix.Close(b.rootFD)
	}
}

func fdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

func (b *builder) do(st Step) error {
	switch st.Op {
	case OpMakePrivate:
		return mount("make-rprivate", "", "/", "", unix.MS_REC|unix.MS_PRIVATE, "")
	case OpRootBind:
		src := fdPath(int(b.sources[st.Source].Fd()))
		if err := mount("bind", src, b.staging, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			err.(*mountError).source = st.Source
			return err
		}
		attr := uint64(unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV)
		if st.ReadOnly {
			attr |= unix.MOUNT_ATTR_RDONLY
		}
		return b.openRoot(attr)
	case OpRootTmpfs:
		if err := mount("tmpfs", "tmpfs", b.staging, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, st.Data); err != nil {
			return err
		}
		return b.openRoot(0)
	case OpTmpfs:
		return b.onTarget(st, func(t string) error {
			return mount("tmpfs", "tmpfs", t, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, st.Data)
		})
	case OpProc:
		return b.onTarget(st, func(t string) error {
			return mount("proc", "proc", t, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
		})
	case OpDevpts:
		return b.onTarget(st, func(t string) error {
			return mount("devpts", "devpts", t, "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, st.Data)
		})
	case OpBind:
		attr := uint64(unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV)
		if st.ReadOnly {
			attr |= unix.MOUNT_ATTR_RDONLY
		}
		// Only the executor can see whether a source is a file, which
		// needs a file, not a folder, as its mount point.
		st.File = !isDir(b.sources[st.Source])
		return b.bind(st, unix.MS_REC, attr)
	case OpDevice:
		return b.bind(st, 0, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC)
	case OpSymlink:
		dir, name := path.Split(st.Target)
		return b.inDir(dir, func(fd int) error {
			if err := unix.Symlinkat(st.Source, fd, name); err != nil {
				return fmt.Errorf("create symlink %s: %w", st.Target, err)
			}
			return nil
		})
	case OpMask:
		return b.onTarget(st, func(t string) error {
			var fst unix.Stat_t
			if err := unix.Stat(t, &fst); err != nil {
				return fmt.Errorf("stat %s: %w", st.Target, err)
			}
			if fst.Mode&unix.S_IFMT == unix.S_IFDIR {
				return mount("mask", "tmpfs", t, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=0")
			}
			return mount("mask", fdPath(int(b.sources[st.Source].Fd())), t, "", unix.MS_BIND, "")
		})
	case OpReadOnly:
		if !b.exists(st.Target) {
			return nil
		}
		err := b.onTarget(st, func(t string) error {
			return mount("bind", t, t, "", unix.MS_BIND|unix.MS_REC, "")
		})
		if err != nil {
			return err
		}
		fd, err := b.resolve(st.Target)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return setattr(fd, st.Target, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC, true)
	case OpRootRO:
		return setattr(b.rootFD, "/", unix.MOUNT_ATTR_RDONLY, false)
	case OpPivot:
		return b.pivot()
	}
	return fmt.Errorf("unknown setup step %q", st.Op)
}

func (b *builder) openRoot(attr uint64) error {
	fd, err := unix.Open(b.staging, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open new root %s: %w", b.staging, err)
	}
	b.rootFD = fd
	if attr == 0 {
		return nil
	}
	return setattr(fd, "/", attr, true)
}

// bind mounts a pre-opened source on st.Target, then sets attr on the new
// mount and every mount below it.
func (b *builder) bind(st Step, flags uintptr, attr uint64) error {
	src := fdPath(int(b.sources[st.Source].Fd()))
	err := b.onTarget(st, func(t string) error {
		return mount("bind", src, t, "", unix.MS_BIND|flags, "")
	})
	if err != nil {
		return err
	}
	// The handle taken before the mount names the folder below it, so
	// open the target again to reach the new mount.
	fd, err := b.resolve(st.Target)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return setattr(fd, st.Target, attr, flags&unix.MS_REC != 0)
}

// onTarget resolves st.Target inside the new root, creating it where the
// plan allows, and calls fn with a path that names it safely.
func (b *builder) onTarget(st Step, fn func(target string) error) error {
	fd, err := b.resolve(st.Target)
	if errors.Is(err, unix.ENOENT) && st.Create {
		err = b.create(st.Target, st.File)
		if err == nil {
			fd, err = b.resolve(st.Target)
		}
	}
	if errors.Is(err, unix.ENOENT) {
		if st.Optional {
			return nil
		}
		return fmt.Errorf("mount target %s does not exist in the root filesystem; create it there", st.Target)
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := fn(fdPath(fd)); err != nil {
		var me *mountError
		if errors.As(err, &me) {
			me.target = st.Target
			if st.Source != "" {
				me.source = st.Source
			}
		}
		return err
	}
	return nil
}

// resolve opens target inside the new root as an O_PATH handle. Symlinks
// on the way are followed as if the new root were "/", so none leads out.
func (b *builder) resolve(target string) (int, error) {
	rel := strings.TrimPrefix(target, "/")
	if rel == "" {
		rel = "."
	}
	fd, err := unix.Openat2(b.rootFD, rel, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return -1, fmt.Errorf("resolve %s in the new root: %w", target, err)
	}
	return fd, nil
}

// inDir calls fn with a handle on dir inside the new root.
func (b *builder) inDir(dir string, fn func(fd int) error) error {
	fd, err := b.resolve(path.Clean(dir))
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return fn(fd)
}

// create makes target and any missing folders above it.
func (b *builder) create(target string, file bool) error {
	parent, name := path.Dir(target), path.Base(target)
	fd, err := b.resolve(parent)
	if err == nil {
		unix.Close(fd)
	} else if errors.Is(err, unix.ENOENT) {
		if err := b.create(parent, false); err != nil {
			return err
		}
	}
	return b.inDir(parent, func(fd int) error {
		var err error
		if file {
			var f int
			f, err = unix.Openat(fd, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o644)
			if err == nil {
				unix.Close(f)
			}
		} else {
			err = unix.Mkdirat(fd, name, 0o755)
		}
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create mount target %s: %w", target, err)
		}
		return nil
	})
}

// pivot makes the new root the process's root and detaches the old one,
// so that nothing in the jail can reach the host's tree again. A chroot
// would leave the old root one chroot("..") trick away.
func (b *builder) pivot() error {
	Trace("init mounts done")
	if err := unix.Fchdir(b.rootFD); err != nil {
		return fmt.Errorf("enter new root: %w", err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one, so no
	// folder for it is needed in a read-only root filesystem.
	if err := unix.PivotRoot(".", "."); err != nil {
		return &mountError{op: "pivot_root", target: b.staging, err: err}
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return &mountError{op: "detach old root", target: "/", err: err}
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir to new root: %w", err)
	}
	return nil
}

func mount(op, source, target, fstype string, flags uintptr, data string) error {
	for {
		err := unix.Mount(source, target, fstype, flags, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &mountError{op: op, source: source, target: target, fstype: fstype, flags: flags, data: data, err: err}
		}
		return nil
	}
}

// setattr adds attr to the mount at fd, and to the mounts below it when
// recursive is set. It only sets flags, never clears them, so flags the
// kernel locked on the host's mounts are kept.
func setattr(fd int, name string, attr uint64, recursive bool) error {
	flags := unix.AT_EMPTY_PATH
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	if err := unix.MountSetattr(fd, "", uint(flags), &unix.MountAttr{Attr_set: attr}); err != nil {
		return &mountError{op: "mount_setattr", target: name, flags: uintptr(attr), err: err}
	}
	return nil
}

func isDir(f *os.File) bool {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return true
	}
	return st.Mode&unix.S_IFMT == unix.S_IFDIR
}

func (b *builder) exists(target string) bool {
	fd, err := b.resolve(target)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}
