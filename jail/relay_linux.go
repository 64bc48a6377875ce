package jail

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// drainTimeout bounds the wait for the jail's last output once it ended.
const drainTimeout = time.Second

// relay copies between the login terminal and the jail's terminal, with
// the login terminal in raw mode so that the jail's line discipline does
// all the work: echo, line editing and the signal keys.
type relay struct {
	in, out  *os.File
	master   *os.File
	oldState *term.State
	output   chan struct{} // closed when the jail's output has ended
	winch    chan os.Signal
	stopOnce sync.Once
}

// TerminalSize returns the size of the login terminal when both stdin and
// stdout are terminals, and nil otherwise, when a jail gets no terminal of
// its own.
func TerminalSize(in, out *os.File) *WinSize {
	if !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		return nil
	}
	ws, err := unix.IoctlGetWinsize(int(in.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Row == 0 || ws.Col == 0 {
		// A terminal that reports no size (a serial console) gets the
		// classic 24x80.
		return &WinSize{Rows: 24, Cols: 80}
	}
	return &WinSize{Rows: ws.Row, Cols: ws.Col}
}

func startRelay(in, out, master *os.File) (*relay, error) {
	old, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		return nil, fmt.Errorf("put the terminal in raw mode: %w", err)
	}
	r := &relay{in: in, out: out, master: master, oldState: old,
		output: make(chan struct{}), winch: make(chan os.Signal, 1)}

	signal.Notify(r.winch, unix.SIGWINCH)
	go func() {
		for range r.winch {
			r.resize()
		}
	}()
	// A resize between the size sent to the init and SIGWINCH's handler
	// would otherwise be lost.
	r.resize()

	go func() {
		// The copy ends when the login terminal closes; the jail then
		// gets SIGHUP from the outer process.
		_, _ = io.Copy(master, in)
	}()
	go func() {
		// Reading the master fails with EIO once every process in the
		// jail has closed the terminal.
		_, _ = io.Copy(out, master)
		close(r.output)
	}()
	return r, nil
}

func (r *relay) resize() {
	ws, err := unix.IoctlGetWinsize(int(r.in.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return
	}
	// The kernel sends SIGWINCH to the jail's foreground process group.
	_ = unix.IoctlSetWinsize(int(r.master.Fd()), unix.TIOCSWINSZ, ws)
}

// hangup closes the jail's terminal; the kernel then sends SIGHUP to the
// jail's session. A nil relay does nothing.
func (r *relay) hangup() {
	if r != nil {
		r.master.Close()
	}
}

// drain waits, for a bounded time, until the jail's last output reached
// the login terminal. A nil relay does nothing.
func (r *relay) drain() {
	if r == nil {
		return
	}
	select {
	case <-r.output:
	case <-time.After(drainTimeout):
	}
}

// stop restores the login terminal's modes. It is safe to call more than
// once, and on a nil relay.
func (r *relay) stop() {
	if r == nil {
		return
	}
	r.stopOnce.Do(func() {
		signal.Stop(r.winch)
		_ = term.Restore(int(r.in.Fd()), r.oldState)
	})
}
