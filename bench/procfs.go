package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is one process as /proc shows it.
type proc struct {
	pid, ppid, uid int
	comm           string
}

// procTable is a snapshot of every process on the host, with each
// process's children.
type procTable struct {
	procs    map[int]proc
	children map[int][]int
}

func readProcs() (*procTable, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	t := &procTable{procs: map[int]proc{}, children: map[int][]int{}}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// A process may end between ReadDir and here; it is skipped. The
		// real uid comes from status, because a process that is not
		// dumpable has a /proc folder owned by root.
		status, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		p := proc{pid: pid, uid: -1}
		for _, line := range strings.Split(string(status), "\n") {
			key, val, _ := strings.Cut(line, ":")
			val = strings.TrimSpace(val)
			switch key {
			case "Name":
				p.comm = val
			case "PPid":
				p.ppid, _ = strconv.Atoi(val)
			case "Uid":
				if f := strings.Fields(val); len(f) > 0 {
					p.uid, _ = strconv.Atoi(f[0])
				}
			}
		}
		t.procs[pid] = p
		t.children[p.ppid] = append(t.children[p.ppid], pid)
	}
	return t, nil
}

// descendants returns pid's children, their children and so on.
func (t *procTable) descendants(pid int) []proc {
	var out []proc
	queue := append([]int(nil), t.children[pid]...)
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		out = append(out, t.procs[c])
		queue = append(queue, t.children[c]...)
	}
	return out
}

// ofUID returns the processes whose owner is uid.
func (t *procTable) ofUID(uid int) []proc {
	var out []proc
	for _, p := range t.procs {
		if p.uid == uid {
			out = append(out, p)
		}
	}
	return out
}

// memUsage is a process's memory in KiB, from /proc/PID/smaps_rollup.
type memUsage struct {
	rss, pss, private int64
	threads           int
}

func (m memUsage) add(o memUsage) memUsage {
	return memUsage{m.rss + o.rss, m.pss + o.pss, m.private + o.private, m.threads + o.threads}
}

// readMem reads pid's RSS, PSS and private (clean plus dirty) memory, and
// its thread count.
func readMem(pid int) (memUsage, error) {
	var m memUsage
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return m, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "Rss:":
			m.rss = kb
		case "Pss:":
			m.pss = kb
		case "Private_Clean:", "Private_Dirty:":
			m.private += kb
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			m.threads, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return m, nil
}

// killUID sends SIGKILL, by PID, to every process of uid until none is
// left or limit passes, and returns how many are left.
func killUID(uid int, limit time.Duration) int {
	deadline := time.Now().Add(limit)
	for {
		t, err := readProcs()
		if err != nil {
			return -1
		}
		left := t.ofUID(uid)
		if len(left) == 0 || time.Now().After(deadline) {
			return len(left)
		}
		for _, p := range left {
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
