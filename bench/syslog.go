package main

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// syslogSink receives jailsh's audit records on a unixgram socket that the
// benchmark's jailsh is built to send to. jailsh refuses a login it cannot
// audit, and its syslog library gives up on a write after 50 ms, so the
// sink reads all the time.
type syslogSink struct {
	path string
	conn *net.UnixConn

	mu       sync.Mutex
	starts   map[int]time.Time // arrival of each session's start record, by outer PID
	ends     map[int]int       // status in each session's end record, by outer PID
	refusals []string
	wg       sync.WaitGroup
}

var (
	auditEvent  = regexp.MustCompile(`event=(\w+)`)
	auditPID    = regexp.MustCompile(` pid=(\d+)`)
	auditStatus = regexp.MustCompile(` status=(-?\d+)`)
)

// syslogQueue is the datagram queue of the sink's socket: systemd sets
// net.unix.max_dgram_qlen to at least 512 at boot, where the kernel's
// default is 10, so a system log on Debian queues that many.
const syslogQueue = 512

// maxDgramQlen is the sysctl that a unix datagram socket takes its queue
// length from when it is created.
const maxDgramQlen = "/proc/sys/net/unix/max_dgram_qlen"

func listenSyslog(path string) (*syslogSink, error) {
	// The socket keeps the queue length it was created with, so the
	// sysctl is raised only around its creation.
	if data, err := os.ReadFile(maxDgramQlen); err == nil {
		old := strings.TrimSpace(string(data))
		if n, _ := strconv.Atoi(old); n < syslogQueue {
			if err := os.WriteFile(maxDgramQlen, []byte(strconv.Itoa(syslogQueue)), 0o644); err != nil {
				return nil, fmt.Errorf("raise %s to %d: %w", maxDgramQlen, syslogQueue, err)
			}
			defer func() {
				if err := os.WriteFile(maxDgramQlen, []byte(old), 0o644); err != nil {
					logf("restore %s to %s: %v", maxDgramQlen, old, err)
				}
			}()
		}
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	// The test account sends to it.
	if err := os.Chmod(path, 0o666); err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetReadBuffer(4 << 20)
	s := &syslogSink{path: path, conn: conn, starts: map[int]time.Time{}, ends: map[int]int{}}
	s.wg.Add(1)
	go s.read()
	return s, nil
}

func (s *syslogSink) read() {
	defer s.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, err := s.conn.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		msg := string(buf[:n])
		ev, pid := auditEvent.FindStringSubmatch(msg), auditPID.FindStringSubmatch(msg)
		if ev == nil || pid == nil {
			continue
		}
		p, _ := strconv.Atoi(pid[1])
		s.mu.Lock()
		switch ev[1] {
		case "start":
			s.starts[p] = now
		case "end":
			status := -1
			if m := auditStatus.FindStringSubmatch(msg); m != nil {
				status, _ = strconv.Atoi(m[1])
			}
			s.ends[p] = status
		case "refuse":
			if len(s.refusals) < 10 {
				s.refusals = append(s.refusals, msg)
			}
		}
		s.mu.Unlock()
	}
}

// started returns when the start record of the session with outer PID pid
// arrived.
func (s *syslogSink) started(pid int) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.starts[pid]
	return t, ok
}

// ended returns the status in the end record of the session with outer
// PID pid.
func (s *syslogSink) ended(pid int) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.ends[pid]
	return st, ok
}

func (s *syslogSink) refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refusals...)
}

func (s *syslogSink) close() {
	s.conn.Close()
	s.wg.Wait()
}
