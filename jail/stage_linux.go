package jail

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"github.com/jailsh/jailsh/policy"
	"golang.org/x/sys/unix"
)

// ExecArg0 is the argv[0] of the exec stage: the init starts the program
// through it when the bounding set is to be trimmed. The kernel gives a
// new user namespace a full bounding set, so only a process already in
// the program's namespace can trim it; Go offers no hook between clone
// and exec, so the stage is jailsh itself, run once more.
//
// Its arguments are the capabilities to keep as a hexadecimal bit mask,
// the program's path, and the program's argv.
const ExecArg0 = "jailsh-exec"

// IsExecStage reports whether this process was started as the exec stage.
// Anyone may start it by that name; it only drops capabilities and runs a
// program, which grants nothing.
func IsExecStage() bool {
	return len(os.Args) >= 4 && os.Args[0] == ExecArg0
}

// RunExecStage trims the bounding set and executes the program. It runs
// as root of the program's user namespace, and never returns.
func RunExecStage() {
	runtime.LockOSThread()
	err := execStage(os.Args[1], os.Args[2], os.Args[3:])
	fmt.Fprintf(os.Stderr, "jailsh: %v\n", err)
	os.Exit(126)
}

func execStage(mask, path string, argv []string) error {
	keep, err := strconv.ParseUint(mask, 16, 64)
	if err != nil {
		return fmt.Errorf("invalid capability mask %q", mask)
	}
	if err := dropCaps(keep); err != nil {
		return err
	}
	if err := unix.Exec(path, argv, os.Environ()); err != nil {
		return fmt.Errorf("execute %s: %w", path, err)
	}
	return nil
}

// dropCaps removes every capability not in the bit mask keep from the
// calling thread's bounding set.
func dropCaps(keep uint64) error {
	for c, name := range policy.CapabilityNames {
		if keep&(1<<c) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && err != unix.EINVAL {
			return fmt.Errorf("drop capability %s from the bounding set: %w", name, err)
		}
	}
	return nil
}

// capMask returns the bit mask of the capabilities named in keep.
func capMask(keep []string) (uint64, error) {
	var m uint64
	for _, name := range keep {
		n, err := policy.CapabilityNumber(name)
		if err != nil {
			return 0, err
		}
		m |= 1 << n
	}
	return m, nil
}

// stageArgv returns the path and argv that start prog through the exec
// stage. It returns prog itself when the stage has nothing to do: when
// every capability is kept, or when the program runs as a user other
// than root, since exec then leaves it no capability anyway.
func stageArgv(s *Spec, prog string) (string, []string, error) {
	mask, err := capMask(s.Capabilities)
	if err != nil {
		return "", nil, err
	}
	if s.KeepUID || mask == 1<<len(policy.CapabilityNames)-1 {
		return prog, s.Argv, nil
	}
	argv := append([]string{ExecArg0, strconv.FormatUint(mask, 16), prog}, s.Argv...)
	return "/proc/self/exe", argv, nil
}
