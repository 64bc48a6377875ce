package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// phasesHelp is how to record the trace that -phases reads: perf's
// scheduler and system-call tracepoints, system-wide, around a loop of
// `jailsh -c true` as a non-root user. The tracepoints need tracefs
// mounted on /sys/kernel/tracing.
const phasesHelp = `record with:
  perf record -a -o trace.data -e sched:sched_process_exec,sched:sched_process_exit,syscalls:sys_enter_clone,syscalls:sys_enter_mount,syscalls:sys_enter_pivot_root,syscalls:sys_enter_exit_group,syscalls:sys_exit_waitid,syscalls:sys_exit_wait4 -- setpriv --reuid=USER --regid=USER --init-groups bash -c 'for i in $(seq 100); do JAILSH -c true; done'
  perf script -i trace.data -F comm,pid,tid,time,event,trace > trace.txt`

// phaseOrder lists the phase marks in the order a session passes them.
var phaseOrder = []string{
	"exec jailsh", "clone namespaces", "exec init", "first mount", "pivot_root",
	"clone program", "exec stage", "exec program", "program exit", "init exit",
	"init reaped", "jailsh exit", "jailsh reaped",
}

var perfLine = regexp.MustCompile(`^\s*(\S+)\s+(\d+)/(\d+)\s+([\d.]+):\s+(\S+):\s*(.*)$`)

// sessionMarks are the times, in milliseconds, at which one session
// passed each phase mark.
type sessionMarks map[string]float64

// printPhases reads a perf script dump of `jailsh -c true` runs and writes
// the median time between consecutive phase marks as a Markdown table.
func printPhases(path string, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var runs []sessionMarks
	var cur sessionMarks
	var outer, init string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := perfLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		comm, pid, tid, ev, rest := m[1], m[2], m[3], m[5], m[6]
		ms, _ := strconv.ParseFloat(m[4], 64)
		ms *= 1000
		set := func(mark string) {
			if _, ok := cur[mark]; !ok {
				cur[mark] = ms
			}
		}
		exec := ev == "sched:sched_process_exec"
		if exec && strings.Contains(rest, "/jailsh pid=") {
			cur, outer, init = sessionMarks{"exec jailsh": ms}, pid, ""
			runs = append(runs, cur)
			continue
		}
		if cur == nil {
			continue
		}
		switch {
		case ev == "syscalls:sys_enter_clone" && pid == outer && strings.Contains(rest, "clone_flags: 0x7c"):
			set("clone namespaces")
		case exec && strings.Contains(rest, "/proc/self/exe") && init == "":
			set("exec init")
			init = pid
		case exec && strings.Contains(rest, "/proc/self/exe"):
			set("exec stage")
		case ev == "syscalls:sys_enter_mount" && pid == init:
			set("first mount")
		case ev == "syscalls:sys_enter_pivot_root" && pid == init:
			set("pivot_root")
		case ev == "syscalls:sys_enter_clone" && pid == init && strings.Contains(rest, "clone_flags: 0x1002"):
			set("clone program")
		case exec && (strings.Contains(rest, "/bin/bash ") || strings.Contains(rest, "/bin/true ")):
			set("exec program")
		case ev == "sched:sched_process_exit" && (comm == "bash" || comm == "true") && pid != outer:
			if _, ok := cur["exec program"]; ok {
				set("program exit")
			}
		case ev == "syscalls:sys_enter_exit_group" && pid == init:
			set("init exit")
		case ev == "syscalls:sys_exit_waitid" && pid == outer:
			if _, ok := cur["init exit"]; ok {
				set("init reaped")
			}
		case ev == "syscalls:sys_enter_exit_group" && pid == outer && tid == pid:
			set("jailsh exit")
		case ev == "syscalls:sys_exit_wait4" && pid != outer && pid != init:
			if _, ok := cur["jailsh exit"]; ok {
				set("jailsh reaped")
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}

	// A mark that no run passed (the exec stage, in builds without it) is
	// left out; runs that miss any other mark are dropped.
	var marks []string
	for _, mark := range phaseOrder {
		for _, r := range runs {
			if _, ok := r[mark]; ok {
				marks = append(marks, mark)
				break
			}
		}
	}
	var complete []sessionMarks
	for _, r := range runs {
		if len(r) == len(marks) {
			complete = append(complete, r)
		}
	}
	if len(complete) == 0 {
		return fmt.Errorf("%s: none of %d runs of jailsh passed every phase mark\n%s", path, len(runs), phasesHelp)
	}
	fmt.Fprintf(w, "%d of %d runs complete; median ms between marks\n\n| from | to | median ms |\n| --- | --- | --- |\n", len(complete), len(runs))
	for i := 1; i < len(marks); i++ {
		fmt.Fprintf(w, "| %s | %s | %.2f |\n", marks[i-1], marks[i], medianOf(complete, marks[i-1], marks[i]))
	}
	fmt.Fprintf(w, "| %s | %s | %.2f |\n", marks[0], marks[len(marks)-1], medianOf(complete, marks[0], marks[len(marks)-1]))
	return nil
}

func medianOf(runs []sessionMarks, from, to string) float64 {
	d := make([]float64, len(runs))
	for i, r := range runs {
		d[i] = r[to] - r[from]
	}
	sort.Float64s(d)
	return d[len(d)/2]
}
