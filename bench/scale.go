package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// tasksPerSession is the measured number of tasks (threads) of one idle
// jailsh session, which the scale test's limits are sized by. It is an
// upper estimate until memory has run.
var tasksPerSession = 16

// scalePass is one scale test: how sessions were launched, and what
// became of them.
type scalePass struct {
	name       string
	r          *idleRun
	audited    int           // sessions with a start record in syslog
	lastStart  time.Duration // first launch to the last start record
	endAudited int
}

func (b *bench) scale(rep *report) error {
	n := b.cfg.scaleN
	restore, err := b.raiseLimits(n)
	defer restore()
	if err != nil {
		return err
	}
	c := command{"jailsh", b.acct.shell, "jailsh", []string{"-c", idleProgram}}
	paced := runtime.NumCPU()
	passes := []*scalePass{
		{name: "burst: all launched back to back"},
		{name: fmt.Sprintf("paced: %d starting at a time", paced)},
	}
	for i, p := range passes {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		logf("scale: %d concurrent idle jailsh sessions, %s", n, p.name)
		start := time.Now()
		r := b.startIdle(n, c, 180*time.Second, []int{0, paced}[i])
		p.r = r
		if r.ready > 0 {
			time.Sleep(b.cfg.settle)
			r.err = errors.Join(r.err, r.measure())
		}
		// The start record is sent once the program runs in the jail, so
		// its arrival times the start of every session from the first
		// launch.
		var last time.Time
		for _, s := range r.sessions {
			if t, ok := b.sink.started(s.cmd.Process.Pid); ok {
				p.audited++
				if t.After(last) {
					last = t
				}
			}
		}
		p.lastStart = last.Sub(start)
		b.end(r, 60*time.Second)
		// End records may arrive after the outer process was reaped.
		time.Sleep(200 * time.Millisecond)
		for _, s := range r.sessions {
			if _, ok := b.sink.ended(s.cmd.Process.Pid); ok {
				p.endAudited++
			}
		}
	}

	rep.section("Scale",
		fmt.Sprintf("%d concurrent idle sessions of `jailsh -c '%s'` as the test user, then %v to each outer jailsh by PID, all at once. "+
			"In the burst pass all %d are launched back to back; in the paced pass at most %d are starting at any time, the next launched when an earlier one's syslog start record arrives. "+
			"A session counts as started when its sleep runs, as /proc shows it.",
			n, idleProgram, endSignal, n, paced))
	head := []string{"measure"}
	for _, p := range passes {
		head = append(head, p.name)
	}
	row := func(label string, cell func(p *scalePass) string) []string {
		out := []string{label}
		for _, p := range passes {
			out = append(out, cell(p))
		}
		return out
	}
	perSession := func(kb int64, r *idleRun) string {
		return fmt.Sprintf("%.1f MiB (%.0f KiB/session)", float64(kb)/1024, float64(kb)/float64(max(r.ready, 1)))
	}
	rows := [][]string{
		row("sessions launched", func(p *scalePass) string { return strconv.Itoa(p.r.launched) }),
		row("sessions started (sleep runs)", func(p *scalePass) string { return strconv.Itoa(p.r.ready) }),
		row("sessions that failed to start", func(p *scalePass) string { return strconv.Itoa(p.r.launched - p.r.ready) }),
		row("time until every session started or failed", func(p *scalePass) string {
			return fmt.Sprintf("%.2f s (%.0f sessions/s)", p.r.startDur.Seconds(), float64(p.r.ready)/p.r.startDur.Seconds())
		}),
		row("start records in syslog", func(p *scalePass) string { return strconv.Itoa(p.audited) }),
		row("first launch to the last start record", func(p *scalePass) string { return fmt.Sprintf("%.2f s", p.lastStart.Seconds()) }),
		row("PSS of all session processes", func(p *scalePass) string { return perSession(p.r.own.pss+p.r.prog.pss, p.r) }),
		row("of which jailsh and jailsh-init", func(p *scalePass) string {
			return perSession(p.r.own.pss, p.r) + fmt.Sprintf(", %d processes, %d threads", p.r.ownProcs, p.r.own.threads)
		}),
		row(fmt.Sprintf("outer jailsh reaped after %v", endSignal), func(p *scalePass) string {
			return fmt.Sprintf("%d in %.2f s", p.r.reaped, p.r.endDur.Seconds())
		}),
		row("exit statuses", func(p *scalePass) string {
			var out []string
			for st, k := range p.r.statuses {
				out = append(out, fmt.Sprintf("%d× status %d", k, st))
			}
			sort.Strings(out)
			return strings.Join(out, ", ")
		}),
		row("end records in syslog", func(p *scalePass) string { return strconv.Itoa(p.endAudited) }),
		row("processes of the test user left after the end", func(p *scalePass) string { return strconv.Itoa(p.r.left) }),
	}
	rep.table(head, rows)
	if ref := b.sink.refused(); len(ref) > 0 {
		rep.note("refusal records in syslog: " + strings.Join(ref, " | "))
	}

	wantStatus := 128 + int(endSignal)
	var errs []error
	for _, p := range passes {
		r := p.r
		ok := r.ready == n && p.audited == n && r.statuses[wantStatus] == n && p.endAudited == n && r.left == 0
		rep.goal(fmt.Sprintf("scale, %s: %d sessions started, ended by %v, audited, none left", p.name, n, endSignal),
			fmt.Sprintf("%d started and audited, %d ended with status %d and audited, 0 left", n, n, wantStatus),
			fmt.Sprintf("%d started, %d start records, %d ended with status %d, %d end records, %d left", r.ready, p.audited, r.statuses[wantStatus], wantStatus, p.endAudited, r.left), ok)
		if r.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.name, r.err))
		}
	}
	return errors.Join(errs...)
}

// raiseLimits checks that the kernel and the test user's limits allow n
// sessions, and raises any that does not. The returned function restores
// what was raised.
func (b *bench) raiseLimits(n int) (func(), error) {
	var undo []func()
	restore := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}

	// Every session has a user, mount and PID namespace for the jail
	// and a user and mount namespace for the program, and the tasks of
	// three processes.
	t, err := readProcs()
	if err != nil {
		return restore, err
	}
	tasks := n*tasksPerSession + 2*len(t.procs) + 1000
	need := map[string]int{
		"/proc/sys/user/max_user_namespaces": 2*n + 100,
		"/proc/sys/user/max_mnt_namespaces":  2*n + 100,
		"/proc/sys/user/max_pid_namespaces":  n + 100,
		"/proc/sys/user/max_net_namespaces":  n + 100,
		"/proc/sys/user/max_uts_namespaces":  n + 100,
		"/proc/sys/user/max_ipc_namespaces":  n + 100,
		"/proc/sys/kernel/pid_max":           tasks,
		"/proc/sys/kernel/threads-max":       tasks,
	}
	keys := make([]string, 0, len(need))
	for k := range need {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, path := range keys {
		data, err := os.ReadFile(path)
		if err != nil {
			return restore, err
		}
		old := strings.TrimSpace(string(data))
		have, _ := strconv.Atoi(old)
		if have >= need[path] {
			continue
		}
		logf("scale: raising %s from %d to %d for this test", path, have, need[path])
		if err := os.WriteFile(path, []byte(strconv.Itoa(need[path])), 0o644); err != nil {
			return restore, fmt.Errorf("raise %s: %w", path, err)
		}
		undo = append(undo, func() {
			if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
				logf("restore %s to %s: %v", path, old, err)
			}
		})
	}

	// RLIMIT_NPROC counts the test user's tasks; the sessions inherit the
	// limit from this process through fork and exec.
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NPROC, &lim); err != nil {
		return restore, err
	}
	if lim.Cur != unix.RLIM_INFINITY && lim.Cur < uint64(tasks) {
		old := lim
		logf("scale: raising RLIMIT_NPROC from %d to %d for this test", lim.Cur, tasks)
		lim.Cur = uint64(tasks)
		if lim.Max != unix.RLIM_INFINITY && lim.Max < lim.Cur {
			lim.Max = lim.Cur
		}
		if err := unix.Setrlimit(unix.RLIMIT_NPROC, &lim); err != nil {
			return restore, fmt.Errorf("raise RLIMIT_NPROC: %w", err)
		}
		undo = append(undo, func() { _ = unix.Setrlimit(unix.RLIMIT_NPROC, &old) })
	}
	return restore, nil
}
