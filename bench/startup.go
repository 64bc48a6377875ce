package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// command is one program line the benchmark runs as the test user.
type command struct {
	label string
	path  string // absolute path of the program
	argv0 string
	args  []string
}

// line returns the command as a shell would show it, for hyperfine and
// the report.
func (c command) line() string {
	return strings.Join(append([]string{c.path}, c.args...), " ")
}

// bwrapArgs returns bubblewrap's options for the isolation a jailsh jail
// gets from the benchmark's policy, followed by prog. The tmpfs above the
// home is what jailsh mounts too; without it bwrap cannot create the
// home's mount point in the read-only root.
func (b *bench) bwrapArgs(prog ...string) []string {
	home := b.acct.home
	args := []string{
		"--unshare-user", "--uid", "0", "--gid", "0",
		"--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-ipc",
		"--hostname", "jsbench",
		"--ro-bind", b.cfg.rootfs, "/",
		"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
		"--tmpfs", filepath.Dir(home), "--bind", home, home, "--chdir", home,
		"--die-with-parent", "--",
	}
	return append(args, prog...)
}

// unshareArgs returns unshare(1)'s options for the floor: new namespaces
// and a chroot, without a new /proc, /dev, /tmp, home or pivot_root.
func (b *bench) unshareArgs(prog ...string) []string {
	args := []string{"--user", "--map-root-user", "--pid", "--fork", "--mount", "--net", "--uts", "--ipc", b.tool.chroot, b.cfg.rootfs}
	return append(args, prog...)
}

// timing is the outcome of one start-up command.
type timing struct {
	cmd       command
	durations []time.Duration
	hyperfine time.Duration // hyperfine's median; 0 when not measured
	err       error
}

func (b *bench) startupCommands() []command {
	jailctl := filepath.Join(b.bin, "jailctl")
	return []command{
		{"jailsh -c true (login shell)", b.acct.shell, "jailsh", []string{"-c", "true"}},
		{"jailctl run -- /bin/true", jailctl, "jailctl", []string{"run", "--policy", b.policyFile, "--", "/bin/true"}},
		{"bwrap … /bin/true (reference)", b.tool.bwrap, "bwrap", b.bwrapArgs("/bin/true")},
		{"bwrap … /bin/bash -c true", b.tool.bwrap, "bwrap", b.bwrapArgs("/bin/bash", "-c", "true")},
		{"unshare … chroot ROOT /bin/true (floor)", b.tool.unshare, "unshare", b.unshareArgs("/bin/true")},
		{"bash -c true (no jail)", b.tool.bash, "bash", []string{"-c", "true"}},
	}
}

// Indexes into startupCommands.
const (
	rowJailsh = iota
	rowJailctl
	rowBwrap
	rowBwrapBash
	rowUnshare
	rowBash
)

func (b *bench) startup(rep *report) error {
	cmds := b.startupCommands()
	results := make([]*timing, len(cmds))
	for i, c := range cmds {
		results[i] = &timing{cmd: c}
		cmd, cancel := b.userCommand(c.path, c.argv0, c.args...)
		out, err := combinedOutput(cmd)
		cancel()
		if err != nil {
			results[i].err = fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
			logf("start-up: %s failed: %v", c.label, results[i].err)
		}
	}

	// Each round runs every command once, starting with a different one,
	// so that a change in the machine's load falls on all rows alike.
	logf("start-up: %d warm-up and %d timed rounds of %d commands", b.cfg.warmup, b.cfg.runs, len(cmds))
	for round := 0; round < b.cfg.warmup+b.cfg.runs; round++ {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		for k := range cmds {
			r := results[(round+k)%len(cmds)]
			if r.err != nil {
				continue
			}
			cmd, cancel := b.userCommand(r.cmd.path, r.cmd.argv0, r.cmd.args...)
			start := time.Now()
			err := cmd.Run()
			d := time.Since(start)
			cancel()
			if err != nil {
				r.err = fmt.Errorf("round %d: %v", round, err)
				continue
			}
			if round >= b.cfg.warmup {
				r.durations = append(r.durations, d)
			}
		}
	}
	hfErr := b.hyperfine(results)
	if hfErr != nil {
		logf("start-up: hyperfine: %v", hfErr)
	}

	ref := summarize(results[rowBwrap].durations)
	rows := [][]string{}
	for _, r := range results {
		if r.err != nil {
			rows = append(rows, []string{r.cmd.label, "failed: " + r.err.Error(), "", "", "", ""})
			continue
		}
		s := summarize(r.durations)
		hf := "not run"
		if r.hyperfine > 0 {
			hf = ms(r.hyperfine)
		}
		rows = append(rows, []string{r.cmd.label, ms(s.median), ms(s.p25) + "–" + ms(s.p75), ms(s.min), hf, ratio(s.median, ref.median)})
	}
	rep.section("Start-up",
		fmt.Sprintf("Wall time from fork to reaping, as the test user, %d interleaved runs of each after %d warm-up rounds. "+
			"The hyperfine column is a separate run of `hyperfine -N` (%d runs) as a cross-check. "+
			"The ratio is to bwrap running /bin/true.", b.cfg.runs, b.cfg.warmup, b.cfg.hfRuns))
	rep.table([]string{"command", "median ms", "p25–p75 ms", "min ms", "hyperfine median ms", "ratio to bwrap"}, rows)
	if hfErr != nil {
		rep.note("hyperfine cross-check: " + hfErr.Error())
	}
	rep.commands(cmds)

	jailsh, jailctl, bwrapBash := results[rowJailsh], results[rowJailctl], results[rowBwrapBash]
	if jailctl.err == nil && results[rowBwrap].err == nil {
		got := summarize(jailctl.durations).median
		rep.maxRatio("start-up: jailctl run -- /bin/true ÷ bwrap … /bin/true", ratioValue(got, ref.median), 1.10)
	}
	if jailsh.err == nil && bwrapBash.err == nil {
		got := summarize(jailsh.durations).median
		refBash := summarize(bwrapBash.durations).median
		rep.maxRatio("start-up: jailsh -c true ÷ bwrap … /bin/bash -c true (same program in the jail)", ratioValue(got, refBash), 1.10)
		rep.maxRatio("start-up: jailsh -c true ÷ bwrap … /bin/true", ratioValue(got, ref.median), 1.10)
	}
	for _, r := range results {
		if r.err != nil {
			return fmt.Errorf("%s: %v", r.cmd.label, r.err)
		}
	}
	return nil
}

// hyperfine runs every command that passed under hyperfine as the test
// user and stores each median in its timing.
func (b *bench) hyperfine(results []*timing) error {
	if b.cfg.hfRuns <= 0 {
		return fmt.Errorf("skipped by -hyperfine-runs 0")
	}
	if b.tool.hyperfine == "" {
		return fmt.Errorf("hyperfine not found in PATH; install it with `make bench-deps`")
	}
	dir := filepath.Join(b.dir, "hyperfine")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chown(dir, b.acct.uid, b.acct.gid); err != nil {
		return err
	}

	out := filepath.Join(dir, "startup.json")
	args := []string{"--reuid=" + b.acct.name, "--regid=" + b.acct.name, "--init-groups", "--",
		b.tool.hyperfine, "-N", "--style", "none", "--warmup", fmt.Sprint(b.cfg.warmup),
		"--runs", fmt.Sprint(b.cfg.hfRuns), "--export-json", out}
	var ran []*timing
	for _, r := range results {
		if r.err == nil {
			args = append(args, r.cmd.line())
			ran = append(ran, r)
		}
	}

	logf("start-up: hyperfine, %d runs of %d commands", b.cfg.hfRuns, len(ran))
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.tool.setpriv, args...)
	cmd.Env = b.loginEnv()
	cmd.Dir = b.acct.home
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(msg)))
	}

	data, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	var parsed struct {
		Results []struct {
			Median float64 `json:"median"` // seconds
		} `json:"results"`
	}
	if err := json.Unmarshal(data, &parsed); err != nil {
		return fmt.Errorf("read %s: %w", out, err)
	}
	if len(parsed.Results) != len(ran) {
		return fmt.Errorf("%s has %d results for %d commands", out, len(parsed.Results), len(ran))
	}
	for i, r := range ran {
		r.hyperfine = time.Duration(parsed.Results[i].Median * float64(time.Second))
	}
	return nil
}

// stats summarises a sample of durations.
type stats struct {
	median, p25, p75, min time.Duration
}

func summarize(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	q := func(p float64) time.Duration { return s[int(p*float64(len(s)-1)+0.5)] }
	return stats{median: q(0.5), p25: q(0.25), p75: q(0.75), min: s[0]}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

func ratioValue(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func ratio(a, b time.Duration) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", ratioValue(a, b))
}
