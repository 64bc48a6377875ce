package main

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// idleProgram is the command of every idle session. bash -c execs a lone
// simple command, so the jail's program is sleep itself.
const idleProgram = "sleep 3600"

// endSignal ends the idle sessions: SIGHUP is what a login session gets
// when its connection drops.
const endSignal = syscall.SIGHUP

// idleRun is the outcome of a batch of idle sessions.
type idleRun struct {
	sessions []*session
	launched int
	ready    int           // sessions whose program runs
	startDur time.Duration // first launch to the last session's readiness
	own      memUsage      // the jailer's own processes, summed over sessions
	outer    memUsage      // of which the outer processes
	prog     memUsage      // the programs in the jails, summed
	ownProcs int
	reaped   int
	endDur   time.Duration
	statuses map[int]int // exit status of the outer process: count
	left     int         // processes of the test user after the end
	err      error
}

// startIdle launches n sessions of c and waits, up to limit, until each
// one's program (sleep) runs, as /proc shows it, or the session ended.
// With paced > 0, at most paced sessions start at a time: the next is
// launched once the syslog start record of an earlier one arrives, so
// this works for jailsh only. With paced 0 all are launched back to back.
func (b *bench) startIdle(n int, c command, limit time.Duration, paced int) *idleRun {
	r := &idleRun{statuses: map[int]int{}}
	start := time.Now()
	deadline := start.Add(limit)
	slots := make(chan struct{}, max(paced, 1))
	for i := 0; i < n; i++ {
		if paced > 0 {
			select {
			case slots <- struct{}{}:
			case <-time.After(time.Until(deadline)):
				r.err = fmt.Errorf("%d of %d sessions launched after %v", i, n, limit)
			case <-b.ctx.Done():
				r.err = b.ctx.Err()
			}
		}
		if r.err == nil {
			r.err = b.ctx.Err()
		}
		if r.err != nil {
			break
		}
		s, err := b.launch(c.path, c.argv0, c.args...)
		if err != nil {
			r.err = fmt.Errorf("launch session %d: %w", i+1, err)
			break
		}
		r.sessions = append(r.sessions, s)
		if paced > 0 {
			go func() {
				b.waitStarted(s, deadline)
				<-slots
			}()
		}
	}
	r.launched = len(r.sessions)

	for {
		t, err := readProcs()
		if err != nil {
			r.err = errors.Join(r.err, err)
			return r
		}
		ready, ended := 0, 0
		for _, s := range r.sessions {
			select {
			case <-s.done:
				ended++
				continue
			default:
			}
			if hasComm(t.descendants(s.cmd.Process.Pid), "sleep") {
				ready++
			}
		}
		r.ready = ready
		if ready+ended == r.launched {
			r.startDur = time.Since(start)
			if ended > 0 {
				r.err = errors.Join(r.err, fmt.Errorf("%d of %d sessions ended during start-up; their stderr: %s", ended, n, b.sessionErrors()))
			}
			return r
		}
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			r.err = errors.Join(r.err, fmt.Errorf("%d of %d sessions running after %v", ready, n, limit))
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitStarted returns once the syslog start record of s arrived, s ended,
// or the deadline passed.
func (b *bench) waitStarted(s *session, deadline time.Time) {
	for time.Now().Before(deadline) {
		if _, ok := b.sink.started(s.cmd.Process.Pid); ok {
			return
		}
		select {
		case <-s.done:
			return
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func hasComm(ps []proc, comm string) bool {
	for _, p := range ps {
		if p.comm == comm {
			return true
		}
	}
	return false
}

// measure sums the memory of every session's processes: the outer
// process and its descendants other than the program are the jailer's own.
func (r *idleRun) measure() error {
	t, err := readProcs()
	if err != nil {
		return err
	}
	for _, s := range r.sessions {
		select {
		case <-s.done:
			continue // failed during start-up; counted there
		default:
		}
		outer := s.cmd.Process.Pid
		m, err := readMem(outer)
		if err != nil {
			return fmt.Errorf("read memory of PID %d: %w", outer, err)
		}
		r.own = r.own.add(m)
		r.outer = r.outer.add(m)
		r.ownProcs++
		for _, p := range t.descendants(outer) {
			m, err := readMem(p.pid)
			if err != nil {
				return fmt.Errorf("read memory of PID %d (%s): %w", p.pid, p.comm, err)
			}
			if p.comm == "sleep" {
				r.prog = r.prog.add(m)
			} else {
				r.own = r.own.add(m)
				r.ownProcs++
			}
		}
	}
	return nil
}

// end signals every session, waits up to limit for all to be reaped, and
// then up to five seconds for the test user's last processes to go.
func (b *bench) end(r *idleRun, limit time.Duration) {
	r.reaped, r.endDur = endSessions(r.sessions, endSignal, limit)
	for _, s := range r.sessions {
		select {
		case <-s.done:
			r.statuses[s.status]++
		default:
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		t, err := readProcs()
		if err != nil {
			r.left = -1
			return
		}
		r.left = len(t.ofUID(b.acct.uid))
		if r.left == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *bench) memory(rep *report) error {
	n := b.cfg.memN
	jailsh := command{"jailsh", b.acct.shell, "jailsh", []string{"-c", idleProgram}}
	bwrap := command{"bwrap", b.tool.bwrap, "bwrap", b.bwrapArgs("/bin/bash", "-c", idleProgram)}

	var runs []*idleRun
	for _, c := range []command{jailsh, bwrap} {
		logf("memory: %d idle %s sessions", n, c.label)
		r := b.startIdle(n, c, 60*time.Second, 0)
		if r.err == nil {
			time.Sleep(b.cfg.settle)
			r.err = r.measure()
		}
		b.end(r, 30*time.Second)
		if r.err == nil && r.left > 0 {
			r.err = fmt.Errorf("%d processes of %s left after the sessions ended", r.left, b.acct.name)
		}
		runs = append(runs, r)
	}

	rep.section("Memory per idle session",
		fmt.Sprintf("%d idle sessions of each jailer, each running `bash -c '%s'` (bash execs sleep), measured %v after the last one started. "+
			"PSS and private memory from /proc/PID/smaps_rollup, divided by the number of sessions. "+
			"The jailer's own processes are jailsh and jailsh-init, or bwrap and its PID-1 bwrap.",
			n, idleProgram, b.cfg.settle))
	rows := [][]string{}
	for i, r := range runs {
		label := []string{"jailsh -c (outer jailsh + jailsh-init)", "bwrap (outer bwrap + PID-1 bwrap)"}[i]
		if r.err != nil {
			rows = append(rows, []string{label, "failed: " + r.err.Error(), "", "", "", "", ""})
			continue
		}
		per := func(kb int64) string { return fmt.Sprintf("%.0f", float64(kb)/float64(n)) }
		rows = append(rows, []string{label, per(r.own.pss), per(r.own.private), per(r.own.rss),
			fmt.Sprintf("%.1f", float64(r.own.threads)/float64(n)), per(r.prog.pss),
			kbRatio(r.own.pss, runs[1].own.pss, runs[1].err)})
	}
	rep.table([]string{"jailer", "own PSS KiB/session", "own private KiB/session", "own RSS KiB/session", "own threads/session", "sleep PSS KiB/session", "own PSS ratio to bwrap"}, rows)
	for i, r := range runs {
		if r.err == nil {
			inner := r.own.pss - r.outer.pss
			rep.text(fmt.Sprintf("%s: the outer process has %.0f KiB PSS and %.1f threads per session, the jail's PID 1 %.0f KiB and %.1f threads.",
				[]string{"jailsh", "bwrap"}[i], float64(r.outer.pss)/float64(n), float64(r.outer.threads)/float64(n),
				float64(inner)/float64(n), float64(r.own.threads-r.outer.threads)/float64(n)))
		}
	}

	for _, r := range runs {
		if r.err != nil {
			return r.err
		}
	}
	tasksPerSession = (runs[0].own.threads+runs[0].prog.threads)/n + 1
	rep.maxRatio("memory: jailsh's own PSS per idle session ÷ bwrap's", float64(runs[0].own.pss)/float64(runs[1].own.pss), 1.0)
	return nil
}

func kbRatio(a, b int64, bErr error) string {
	if bErr != nil || b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}
