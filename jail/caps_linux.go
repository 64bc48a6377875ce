package jail

import (
	"fmt"

	"github.com/jailsh/jailsh/policy"
	"golang.org/x/sys/unix"
)

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
