package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// readBuffer is the reader's buffer size: larger than a pipe's default
// 64 KiB, so that the reader never limits a writer.
const readBuffer = 1 << 20

// maxTTYExtra bounds the bytes a terminal row may read beyond the
// program's output: script(1) ends its output with a line break.
const maxTTYExtra = 64

// flow is one bulk-output measurement.
type flow struct {
	bytes int64
	rate  float64       // bytes per second from the first byte to the end of output
	wall  time.Duration // from fork to reaping, start-up included
}

// pipeFlow runs c with stdout on a pipe and counts what arrives. With two
// or more CPUs the command runs on CPU 0 and the reader on CPU 1, so that
// every row gets the same placement of writer and reader.
func (b *bench) pipeFlow(c command) (flow, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return flow{}, err
	}
	defer r.Close()
	// Fd puts the read end in blocking mode, which count needs.
	r.Fd()
	cmd, cancel := b.userCommand(c.path, c.argv0, c.args...)
	defer cancel()
	cmd.Stdout = w

	// A child inherits the CPU affinity of the thread that forks it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var all unix.CPUSet
	pin := runtime.NumCPU() >= 2 && unix.SchedGetaffinity(0, &all) == nil && all.IsSet(0) && all.IsSet(1)
	if pin {
		defer unix.SchedSetaffinity(0, &all)
		setCPU(0)
	}
	start := time.Now()
	err = cmd.Start()
	w.Close()
	if err != nil {
		return flow{}, err
	}
	if pin {
		setCPU(1)
	}
	f, rerr := count(r)
	werr := cmd.Wait()
	f.wall = time.Since(start)
	return f, errors.Join(rerr, werr)
}

// setCPU binds the calling thread to one CPU.
func setCPU(cpu int) {
	var set unix.CPUSet
	set.Set(cpu)
	_ = unix.SchedSetaffinity(0, &set)
}

// ttyFlow runs c with stdin, stdout and stderr on a new pseudo-terminal,
// as its controlling terminal, the way a terminal emulator or sshd starts
// a login shell, and counts what arrives on the master.
func (b *bench) ttyFlow(c command) (flow, error) {
	master, slave, err := openPTY()
	if err != nil {
		return flow{}, err
	}
	defer master.Close()
	cmd, cancel := b.userCommand(c.path, c.argv0, c.args...)
	defer cancel()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, true, 0
	start := time.Now()
	err = cmd.Start()
	// Reading the master ends with EIO once no process holds the slave.
	slave.Close()
	if err != nil {
		return flow{}, err
	}
	f, rerr := count(master)
	werr := cmd.Wait()
	f.wall = time.Since(start)
	return f, errors.Join(rerr, werr)
}

// count reads r to its end, and returns the bytes read and the rate from
// the first byte to the last. It calls read(2) directly, so that Go's
// scheduler takes no part in the loop; r must be in blocking mode.
func count(r *os.File) (flow, error) {
	buf := make([]byte, readBuffer)
	fd := r.Fd()
	var (
		f     flow
		first time.Time
	)
	for {
		n, _, errno := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		switch {
		case errno == unix.EINTR || errno == unix.EAGAIN:
			continue
		case errno == unix.EIO || (errno == 0 && n == 0):
			// EIO: a terminal whose every slave is closed.
			if d := time.Since(first); f.bytes > 0 && d > 0 {
				f.rate = float64(f.bytes) / d.Seconds()
			}
			return f, nil
		case errno != 0:
			return f, errno
		}
		if f.bytes == 0 {
			first = time.Now()
		}
		f.bytes += int64(n)
	}
}

// openPTY opens a new pseudo-terminal pair of the host's devpts, with the
// size of a classic terminal.
func openPTY() (master, slave *os.File, err error) {
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	master = os.NewFile(uintptr(mfd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlock pseudo-terminal: %w", err)
	}
	sfd, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(mfd), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if errno != 0 {
		master.Close()
		return nil, nil, fmt.Errorf("open pseudo-terminal slave: %w", errno)
	}
	slave = os.NewFile(sfd, "pty-slave")
	if err := unix.IoctlSetWinsize(int(sfd), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		master.Close()
		slave.Close()
		return nil, nil, fmt.Errorf("set terminal size: %w", err)
	}
	return master, slave, nil
}

// flowCase is one row of the throughput table.
type flowCase struct {
	label string
	cmd   command
	tty   bool
	bytes int64
	flows []flow
	err   error
}

func (b *bench) throughput(rep *report) error {
	pipeProg := fmt.Sprintf("head -c %d /dev/zero", b.cfg.pipeBytes)
	ttyProg := fmt.Sprintf("head -c %d /dev/zero", b.cfg.ttyBytes)
	cases := []*flowCase{
		{label: "jailsh -c, stdout a pipe", cmd: command{"", b.acct.shell, "jailsh", []string{"-c", pipeProg}}, bytes: b.cfg.pipeBytes},
		{label: "bash -c, stdout a pipe (no jail)", cmd: command{"", b.tool.bash, "bash", []string{"-c", pipeProg}}, bytes: b.cfg.pipeBytes},
		{label: "jailsh -c, stdin+stdout a terminal", cmd: command{"", b.acct.shell, "jailsh", []string{"-c", ttyProg}}, tty: true, bytes: b.cfg.ttyBytes},
		{label: "bash -c, stdin+stdout a terminal (no jail)", cmd: command{"", b.tool.bash, "bash", []string{"-c", ttyProg}}, tty: true, bytes: b.cfg.ttyBytes},
	}
	// bwrap isolates as jailsh does, without a seccomp filter: whether a
	// loss on the pipe comes from the namespaces or from jailsh.
	cases = append(cases, &flowCase{label: "bwrap … bash -c, stdout a pipe",
		cmd: command{"", b.tool.bwrap, "bwrap", b.bwrapArgs("/bin/bash", "-c", pipeProg)}, bytes: b.cfg.pipeBytes})
	if b.tool.script != "" {
		// script(1) relays between a pseudo-terminal of its own and the
		// caller's, as jailsh does: the cost of any such relay, without a
		// jail.
		cases = append(cases, &flowCase{label: "bash -c under script(1), a terminal relay (no jail)",
			cmd: command{"", b.tool.script, "script", []string{"-qec", b.tool.bash + " -c '" + ttyProg + "'", "/dev/null"}}, tty: true, bytes: b.cfg.ttyBytes})
	}
	logf("throughput: %d runs of %d commands", b.cfg.throughRep, len(cases))
	for run := 0; run < b.cfg.throughRep; run++ {
		for _, c := range cases {
			if err := b.ctx.Err(); err != nil {
				return err
			}
			if c.err != nil {
				continue
			}
			var f flow
			var err error
			if c.tty {
				f, err = b.ttyFlow(c.cmd)
			} else {
				f, err = b.pipeFlow(c.cmd)
			}
			switch {
			case err != nil:
				c.err = err
			case f.bytes < c.bytes || (!c.tty && f.bytes != c.bytes) || f.bytes > c.bytes+maxTTYExtra:
				c.err = fmt.Errorf("read %d bytes, want %d", f.bytes, c.bytes)
			default:
				c.flows = append(c.flows, f)
			}
		}
	}

	rep.section("Throughput",
		fmt.Sprintf("`head -c N /dev/zero` as the test user, read by this program with a %d KiB buffer; %d interleaved runs, median. "+
			"MB/s counts 10^6 bytes per second from the first byte read to the end of output, so start-up is left out; the wall column includes it. "+
			"Through a pipe, the command runs on CPU 0 and the reader on CPU 1. The terminal rows are not pinned, so that a relay may use either CPU. "+
			"With a terminal, jailsh relays between the jail's own pseudo-terminal and the one this program opens; the unjailed bash writes to that one directly.",
			readBuffer>>10, b.cfg.throughRep))
	rows := [][]string{}
	for _, c := range cases {
		if c.err != nil {
			rows = append(rows, []string{c.label, "failed: " + c.err.Error(), "", "", "", ""})
			continue
		}
		f := medianFlow(c.flows)
		// The reference is the unjailed bash of the same kind: row 1 for
		// the pipe, row 3 for the terminal rows.
		ref := cases[1]
		if c.tty {
			ref = cases[3]
		}
		r := "n/a"
		if ref.err == nil {
			r = fmt.Sprintf("%.2f×", f.rate/medianFlow(ref.flows).rate)
		}
		lo, hi := rateRange(c.flows)
		rows = append(rows, []string{c.label, fmt.Sprintf("%d MiB", c.bytes>>20), fmt.Sprintf("%.0f", f.rate/1e6),
			fmt.Sprintf("%.0f–%.0f", lo/1e6, hi/1e6), ms(f.wall), r})
	}
	rep.table([]string{"command", "bytes per run", "median MB/s", "min–max MB/s", "wall ms", "ratio to unjailed"}, rows)

	for _, c := range cases {
		if c.err != nil {
			return fmt.Errorf("%s: %w", c.label, c.err)
		}
	}
	pipeRatio := medianFlow(cases[0].flows).rate / medianFlow(cases[1].flows).rate
	ttyRatio := medianFlow(cases[2].flows).rate / medianFlow(cases[3].flows).rate
	// "Equal" allows the run-to-run spread of a pipe on a shared machine.
	rep.minRatio("throughput: jailsh -c through a pipe ÷ unjailed (equal, within 5%)", pipeRatio, 0.95)
	rep.minRatio("throughput: jailsh with a terminal ÷ unjailed", ttyRatio, 0.80)
	return nil
}

// rateRange returns the lowest and highest rate of fs.
func rateRange(fs []flow) (lo, hi float64) {
	for i, f := range fs {
		if i == 0 || f.rate < lo {
			lo = f.rate
		}
		if f.rate > hi {
			hi = f.rate
		}
	}
	return lo, hi
}

// medianFlow returns the run with the median rate.
func medianFlow(fs []flow) flow {
	s := append([]flow(nil), fs...)
	sort.Slice(s, func(i, j int) bool { return s[i].rate < s[j].rate })
	return s[len(s)/2]
}
