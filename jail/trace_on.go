//go:build jailsh_trace

package jail

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Trace writes "jailsh-trace PHASE NANOSECONDS" to stderr, with the
// system-wide monotonic clock, so that a benchmark can line up the phases
// of the outer process and the init. It exists only in builds with
// -tags jailsh_trace, which make bench makes for its start-up breakdown;
// a login shell must not write anything its user did not ask for.
func Trace(phase string) {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return
	}
	_, _ = os.Stderr.WriteString("jailsh-trace " + phase + " " + strconv.FormatInt(ts.Nano(), 10) + "\n")
}
