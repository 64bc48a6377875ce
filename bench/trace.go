package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Marks that the driver sets itself around each traced run.
const (
	markFork   = "fork"
	markReaped = "reaped"
)

// traceStartup builds jailsh with -tags jailsh_trace, whose outer process
// and init write a line on stderr at each phase of a start, and runs
// `jailsh -c true` as the test user. It reports the median time of each
// phase, from the in-process marks lined up on the monotonic clock.
func (b *bench) traceStartup(rep *report) error {
	dir := filepath.Join(b.dir, "trace-bin")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	cmd := exec.CommandContext(b.ctx, b.tool.make, "-C", b.cfg.src, "build", "TAGS=jailsh_trace",
		"BIN="+dir, "POLICY_DIR="+filepath.Dir(b.policyFile), "SYSLOG_ADDR="+b.sink.path, "GO="+b.cfg.goBin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("make build TAGS=jailsh_trace: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "jailsh")

	logf("trace: %d runs of jailsh -c true with phase marks", b.cfg.traceRuns)
	offsets := map[string][]time.Duration{} // by mark: time since the fork
	complete := 0
	for i := 0; i < b.cfg.traceRuns; i++ {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		marks, err := b.tracedRun(bin)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		if len(marks) < 3 {
			continue
		}
		complete++
		for name, t := range marks {
			offsets[name] = append(offsets[name], t-marks[markFork])
		}
	}
	if complete == 0 {
		return fmt.Errorf("no run wrote phase marks; is the build tagged jailsh_trace?")
	}

	type phase struct {
		name   string
		median time.Duration
	}
	var phases []phase
	for name, ds := range offsets {
		phases = append(phases, phase{name, summarize(ds).median})
	}
	sort.Slice(phases, func(i, j int) bool { return phases[i].median < phases[j].median })
	var rows [][]string
	for i := 1; i < len(phases); i++ {
		rows = append(rows, []string{phases[i-1].name, phases[i].name, ms(phases[i].median - phases[i-1].median), ms(phases[i].median)})
	}
	rep.section("Where a start goes",
		fmt.Sprintf("`jailsh -c true` as the test user, %d runs, built with `make build TAGS=jailsh_trace`. "+
			"The outer jailsh and the jail's init write a mark on stderr at each phase, with the system's monotonic clock, "+
			"and the driver marks the fork and the reaping. The table gives each mark's median time after the fork, "+
			"in the order of those medians, and a phase is the gap between two of them.\n\n"+
			"- `outer main` and `init main`: the Go runtime and package initialisers ran.\n"+
			"- `policy loaded`: passwd, the policy, the trust checks and the spec are done.\n"+
			"- `init mounts done`: the mounts, before pivot_root.\n"+
			"- `init jail built`: pivot_root, the host name, loopback and the join socket.\n"+
			"- `init hardened`: the limits and the seccomp filter.\n"+
			"- `program executed`: the program's execve succeeded.", complete))
	rep.table([]string{"from", "to", "median ms", "median ms after fork"}, rows)
	return nil
}

// tracedRun runs bin once as the test user and returns its phase marks,
// by name, on the monotonic clock.
func (b *bench) tracedRun(bin string) (map[string]time.Duration, error) {
	cmd, cancel := b.userCommand(bin, "jailsh", "-c", "true")
	defer cancel()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	marks := map[string]time.Duration{}
	marks[markFork] = monotonic()
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	marks[markReaped] = monotonic()
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "jailsh-trace ")
		if !ok {
			continue
		}
		i := strings.LastIndexByte(rest, ' ')
		if i < 0 {
			continue
		}
		ns, err := strconv.ParseInt(rest[i+1:], 10, 64)
		if err != nil {
			continue
		}
		marks[rest[:i]] = time.Duration(ns)
	}
	return marks, nil
}

func monotonic() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}
