// Command bench measures jailsh beside bubblewrap, unshare(1) and plain
// bash on this machine: start-up time, memory per idle session, 500
// concurrent sessions, and stdout throughput with and without a terminal.
// It prints Markdown tables with the ratio of each row to its reference.
//
// It needs root: it creates a temporary account, builds jailsh with
// `make build` and a policy folder and syslog socket of its own (both are
// fixed at build time), and removes all of it when it ends. Run it with
// `make bench`; docs/benchmarks.md has a full run and how to read it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

type config struct {
	src        string // repository that `make build` runs in
	goBin      string // go command that `make build` uses
	rootfs     string // root filesystem of the jails
	user       string // temporary account that the jails run as
	outFile    string // Markdown report, written besides stdout; empty for none
	timeout    time.Duration
	runs       int // timed start-up runs of each command
	warmup     int
	hfRuns     int // hyperfine's runs of each command; 0 skips hyperfine
	memN       int // idle sessions of the memory comparison
	scaleN     int // concurrent sessions of the scale test
	settle     time.Duration
	pipeBytes  int64
	ttyBytes   int64
	throughRep int
	traceRuns  int    // traced runs of jailsh -c true
	only       string // comma-separated sections to run; empty for all
	phases     string // perf script dump to summarise instead of measuring
}

func main() {
	var cfg config
	flag.StringVar(&cfg.src, "src", ".", "repository `DIR` to build jailsh in, with make build")
	flag.StringVar(&cfg.goBin, "go", "go", "go `COMMAND` for make build")
	flag.StringVar(&cfg.rootfs, "rootfs", "/var/cache/jailsh-test/bookworm", "root filesystem `DIR` of the jails (make testroot)")
	flag.StringVar(&cfg.user, "user", "jsbench", "`NAME` of the temporary account to create and remove")
	flag.StringVar(&cfg.outFile, "out", "", "also write the Markdown report to `FILE`")
	flag.DurationVar(&cfg.timeout, "timeout", 14*time.Minute, "stop all measurements after this `DURATION`")
	flag.IntVar(&cfg.runs, "runs", 500, "timed start-up runs of each command, interleaved")
	flag.IntVar(&cfg.warmup, "warmup", 20, "untimed start-up runs of each command first")
	flag.IntVar(&cfg.hfRuns, "hyperfine-runs", 200, "hyperfine runs of each start-up command, as a cross-check; 0 skips it")
	flag.IntVar(&cfg.memN, "mem-sessions", 50, "idle sessions of each jailer in the memory comparison")
	flag.IntVar(&cfg.scaleN, "scale-sessions", 500, "concurrent idle sessions in the scale test")
	flag.DurationVar(&cfg.settle, "settle", 2*time.Second, "wait after sessions start before reading their memory")
	flag.Int64Var(&cfg.pipeBytes, "pipe-bytes", 1<<30, "`BYTES` written to stdout through a pipe, per run")
	flag.Int64Var(&cfg.ttyBytes, "tty-bytes", 128<<20, "`BYTES` written to stdout through a terminal, per run")
	flag.IntVar(&cfg.throughRep, "throughput-runs", 7, "interleaved runs of each throughput command; the median is reported")
	flag.IntVar(&cfg.traceRuns, "trace-runs", 200, "runs of jailsh -c true built with phase marks")
	flag.StringVar(&cfg.only, "only", "", "run only these comma-separated `SECTIONS`: startup, trace, memory, scale, throughput")
	flag.StringVar(&cfg.phases, "phases", "", "only print the start-up phases of `jailsh -c true` from a perf script dump in `FILE`, and measure nothing")
	flag.Parse()

	if cfg.phases != "" {
		if err := printPhases(cfg.phases, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "bench: -phases: %v\n", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(run(cfg))
}

// sections are the names that -only accepts, in the order they run.
var sections = []string{"startup", "trace", "memory", "scale", "throughput"}

func run(cfg config) int {
	only := map[string]bool{}
	for _, name := range strings.Split(cfg.only, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		if !slices.Contains(sections, name) {
			fmt.Fprintf(os.Stderr, "bench: -only: unknown section %q; the sections are %s\n", name, strings.Join(sections, ", "))
			return 2
		}
		only[name] = true
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: must run as root, to create the test account and build jailsh with a policy folder of its own; run: sudo make bench")
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()

	// SIGINT, SIGTERM or SIGHUP stops the measurements, and the deferred
	// cleanup then removes the account, its processes and the folders.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := <-sigs
		logf("received %v: stopping and cleaning up", sig)
		cancel()
	}()

	b := &bench{cfg: cfg, ctx: ctx}
	defer b.cleanup()
	if err := b.setup(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: setup: %v\n", err)
		return 1
	}

	rep := &report{}
	rep.header(b.machine())
	steps := []struct {
		name string
		fn   func(*report) error
	}{
		{"startup", b.startup},
		{"trace", b.traceStartup},
		{"memory", b.memory},
		{"scale", b.scale},
		{"throughput", b.throughput},
	}
	failed := false
	for _, s := range steps {
		if len(only) > 0 && !only[s.name] {
			continue
		}
		if ctx.Err() != nil {
			rep.note(fmt.Sprintf("%s: not run: %v", s.name, context.Cause(ctx)))
			failed = true
			continue
		}
		logf("== %s", s.name)
		if err := s.fn(rep); err != nil {
			rep.note(fmt.Sprintf("%s: failed: %v", s.name, err))
			failed = true
			if errors.Is(err, context.DeadlineExceeded) {
				logf("%s: stopped after -timeout %v", s.name, cfg.timeout)
			}
		}
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.note("load average at the end: " + strings.Join(strings.Fields(string(data))[:3], " "))
	}
	rep.targets()

	fmt.Print(rep.String())
	if cfg.outFile != "" {
		if err := os.WriteFile(cfg.outFile, []byte(rep.String()), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "bench: write %s: %v\n", cfg.outFile, err)
			failed = true
		}
	}
	if failed {
		return 1
	}
	return 0
}

// logf prints progress on stderr, so that stdout holds only the report.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
