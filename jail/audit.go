package jail

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	gsyslog "github.com/hashicorp/go-syslog"
	"golang.org/x/sys/unix"
)

// maxAuditCommand bounds the command in an audit line. Syslog daemons cut
// messages at 1 to 8 KiB, and a cut there would lose the fields after it.
const maxAuditCommand = 256

// Event kinds.
const (
	EventStart  = "start"
	EventEnd    = "end"
	EventRefuse = "refuse"
	EventStop   = "stop"  // an admin ended a jail
	EventJoin   = "join"  // a session joined a running jail
	EventLeave  = "leave" // a session that joined, or that started a shared jail, ended
)

// Event is one audit record of a session.
type Event struct {
	Kind string
	User string
	UID  int
	Mode string // login, command, forced, run or admin
	// AUID is the login uid of the admin, from /proc/self/loginuid, in
	// records of jailctl's admin commands; -1 when the kernel has none.
	AUID     int
	Root     string
	Command  string
	PID      int // host PID of the outer jailsh process
	Status   int // exit code; EventEnd and EventLeave only
	Duration time.Duration
	// Reason is the error of EventRefuse, or why a jail ended early in
	// EventEnd and EventLeave.
	Reason string
	JailID int // host PID of the jail's init, once it runs
	// Weakened lists what the policy relaxed from jailsh's defaults. Every
	// record of such a session carries it, so a weaker jail never passes
	// unnoticed.
	Weakened []string
}

// String formats e as key=value pairs in a fixed order, quoting values
// that have spaces, quotes or control characters.
func (e Event) String() string {
	var b strings.Builder
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + quoteAudit(v))
	}
	add("event", e.Kind)
	add("user", e.User)
	add("uid", strconv.Itoa(e.UID))
	add("mode", e.Mode)
	if e.Mode == "admin" && e.AUID >= 0 {
		add("auid", strconv.Itoa(e.AUID))
	}
	if e.Root != "" {
		add("root", e.Root)
	}
	add("pid", strconv.Itoa(e.PID))
	if e.Command != "" {
		cmd := e.Command
		if len(cmd) > maxAuditCommand {
			cmd = cmd[:maxAuditCommand] + "..."
		}
		add("cmd", cmd)
	}
	if e.Kind == EventEnd || e.Kind == EventLeave {
		add("status", strconv.Itoa(e.Status))
		add("duration", e.Duration.Round(time.Millisecond).String())
	}
	if e.Reason != "" {
		add("reason", e.Reason)
	}
	if e.JailID != 0 {
		add("jail", strconv.Itoa(e.JailID))
	}
	if len(e.Weakened) > 0 {
		add("weakened", strings.Join(e.Weakened, ","))
	}
	return b.String()
}

func quoteAudit(v string) string {
	if v == "" {
		return `""`
	}
	for _, c := range v {
		if c <= ' ' || c == '"' || c == '\\' || c == '=' || c >= 0x7f {
			return strconv.Quote(v)
		}
	}
	return v
}

// Auditor records session events.
type Auditor interface {
	Audit(Event) error
	Close() error
}

type syslogAuditor struct {
	l        gsyslog.Syslogger
	patience time.Duration
}

// AuditPatience bounds the retries of a syslog connection or record.
// go-syslog (v1.0.1) gives a local dial and write a fixed 20 ms deadline,
// which a busy host exceeds: without retries, a burst of logins refused
// some of them and lost end records.
const AuditPatience = 5 * time.Second

// retry calls fn until it succeeds or patience has passed, and returns
// its last error.
func retry(patience time.Duration, fn func() error) error {
	deadline := time.Now().Add(patience)
	wait := 5 * time.Millisecond
	for {
		err := fn()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(wait)
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// OpenSyslog connects to syslog with facility authpriv and tag "jailsh".
// addr is the path of a unixgram socket, or empty for the system's own
// (/dev/log). The connection and every record are retried for up to
// patience; zero means one try.
func OpenSyslog(addr string, patience time.Duration) (Auditor, error) {
	var l gsyslog.Syslogger
	err := retry(patience, func() error {
		var err error
		if addr == "" {
			l, err = gsyslog.NewLogger(gsyslog.LOG_INFO, "AUTHPRIV", "jailsh")
		} else {
			l, err = gsyslog.DialLogger("unixgram", addr, gsyslog.LOG_INFO, "AUTHPRIV", "jailsh")
		}
		return err
	})
	if err != nil && addr == "" {
		// go-syslog tries /dev/log, then /var/run/syslog and
		// /var/run/log, and names none of them in its error.
		err = fmt.Errorf("/dev/log: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w; is a syslog daemon (rsyslog, or systemd-journald) running?", err)
	}
	return syslogAuditor{l, patience}, nil
}

func (a syslogAuditor) Audit(e Event) error {
	level := gsyslog.LOG_INFO
	if e.Kind == EventRefuse {
		level = gsyslog.LOG_WARNING
	}
	msg := []byte(e.String())
	return retry(a.patience, func() error { return a.l.WriteLevel(level, msg) })
}

func (a syslogAuditor) Close() error { return a.l.Close() }

// LoginUID returns the calling process's login uid: the user who logged
// in before any su or sudo, as pam_loginuid set it. It returns -1 when
// the kernel has none.
func LoginUID() int {
	data, err := os.ReadFile("/proc/self/loginuid")
	if err != nil {
		return -1
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 32)
	if err != nil || n == 1<<32-1 {
		return -1
	}
	return int(n)
}

// OpenSyslogSocket returns a datagram socket connected to syslog at addr,
// or at the system's socket when addr is empty, for a process that
// cannot reach the socket's path itself: a shared jail's init.
func OpenSyslogSocket(addr string) (*os.File, error) {
	paths := []string{addr}
	if addr == "" {
		paths = []string{"/dev/log", "/var/run/syslog", "/var/run/log"}
	}
	var err error
	for _, p := range paths {
		var fd int
		fd, err = unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open syslog socket: %w", err)
		}
		if err = unix.Connect(fd, &unix.SockaddrUnix{Name: p}); err == nil {
			// A full queue fails a record after a while, not forever.
			tv := unix.NsecToTimeval(int64(AuditPatience))
			_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
			return os.NewFile(uintptr(fd), "syslog"), nil
		}
		unix.Close(fd)
	}
	return nil, fmt.Errorf("connect to syslog: %w", err)
}

// syslogLine formats e as a datagram for a local syslog socket, with
// facility authpriv and tag "jailsh" as OpenSyslog's records have, and pid
// as the process ID.
func syslogLine(now time.Time, pid int, e Event) string {
	severity := 6 // info
	if e.Kind == EventRefuse {
		severity = 4 // warning
	}
	const authpriv = 10 << 3
	return fmt.Sprintf("<%d>%s jailsh[%d]: %s\n", authpriv|severity, now.Format(time.Stamp), pid, e)
}
