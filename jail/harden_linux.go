package jail

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Rlimit is one resource limit set on the jail's processes.
type Rlimit struct {
	Resource int // unix.RLIMIT_*
	Cur, Max uint64
}

// setRlimits sets the jail's resource limits on the init, whose children
// inherit them.
//
// NOTE: the limits bind the init too. A small address_space can make the
// init, a Go program, fail to allocate while it waits for the program.
func setRlimits(limits []Rlimit) error {
	for _, l := range limits {
		if err := unix.Setrlimit(l.Resource, &unix.Rlimit{Cur: l.Cur, Max: l.Max}); err != nil {
			return fmt.Errorf("set resource limit %d to %d/%d: %w", l.Resource, l.Cur, l.Max, err)
		}
	}
	return nil
}

// harden applies the spec's resource limits and seccomp filter to the
// init, for the program to inherit. It runs last before the program
// starts: the filter would deny the init's own setup, and the limits
// could. The bounding set is trimmed in the forked child instead (see
// startNested), since the program's new user namespace starts with a full
// one.
func harden(s *Spec) error {
	if err := setRlimits(s.Rlimits); err != nil {
		return err
	}
	if len(s.DeniedSyscalls) > 0 {
		return loadSeccomp(s.DeniedSyscalls)
	}
	// no_new_privs holds with or without a filter: nothing in the jail
	// gains privilege through exec.
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	return nil
}
