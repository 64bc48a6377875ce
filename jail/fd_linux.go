package jail

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// CloseInheritedFDs marks every file descriptor above stderr close-on-exec.
// A descriptor that jailsh's parent left open without close-on-exec (a
// folder on the host, say) would otherwise pass into the jail, and with it
// a way back to the host's files. Call it first thing in main, in the
// outer process and in the jail's init.
func CloseInheritedFDs() error {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("mark inherited file descriptors close-on-exec: %w", err)
	}
	return nil
}
