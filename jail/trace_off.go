//go:build !jailsh_trace

package jail

// Trace marks a phase of a jail's start in builds with -tags
// jailsh_trace (see trace_on.go), and does nothing in any other build.
func Trace(string) {}
