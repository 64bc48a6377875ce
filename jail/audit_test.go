package jail

import (
	"strings"
	"testing"
	"time"
)

func TestEventString(t *testing.T) {
	tests := []struct {
		name  string
		event Event
		want  string
	}{
		{
			name:  "start of login",
			event: Event{Kind: EventStart, User: "alice", UID: 1000, Mode: "login", Root: "/srv/jails/bookworm", PID: 4242},
			want:  "event=start user=alice uid=1000 mode=login root=/srv/jails/bookworm pid=4242",
		},
		{
			name:  "start of command",
			event: Event{Kind: EventStart, User: "alice", UID: 1000, Mode: "command", Root: "tmpfs", PID: 7, Command: "ls"},
			want:  "event=start user=alice uid=1000 mode=command root=tmpfs pid=7 cmd=ls",
		},
		{
			name:  "end with status and duration",
			event: Event{Kind: EventEnd, User: "alice", UID: 1000, Mode: "login", Root: "/srv/r", PID: 4242, Status: 130, Duration: 90*time.Second + 1234567*time.Microsecond},
			want:  "event=end user=alice uid=1000 mode=login root=/srv/r pid=4242 status=130 duration=1m31.235s",
		},
		{
			name:  "end with zero status",
			event: Event{Kind: EventEnd, User: "bob", UID: 1001, Mode: "forced", PID: 1, Command: "uptime"},
			want:  "event=end user=bob uid=1001 mode=forced pid=1 cmd=uptime status=0 duration=0s",
		},
		{
			name:  "admin join with login uid and jail",
			event: Event{Kind: EventJoin, User: "alice", UID: 1000, Mode: "admin", AUID: 1002, PID: 9, JailID: 4243},
			want:  "event=join user=alice uid=1000 mode=admin auid=1002 pid=9 jail=4243",
		},
		{
			name:  "admin without login uid",
			event: Event{Kind: EventStop, User: "alice", UID: 1000, Mode: "admin", AUID: -1, PID: 9, JailID: 4243},
			want:  "event=stop user=alice uid=1000 mode=admin pid=9 jail=4243",
		},
		{
			name:  "leave with status",
			event: Event{Kind: EventLeave, User: "erin", UID: 1003, Mode: "command", PID: 5, Command: "ls", Status: 2, Duration: time.Second, JailID: 77},
			want:  "event=leave user=erin uid=1003 mode=command pid=5 cmd=ls status=2 duration=1s jail=77",
		},
		{
			name:  "status only on end",
			event: Event{Kind: EventStart, User: "bob", UID: 1001, Mode: "login", PID: 1, Status: 3, Duration: time.Second},
			want:  "event=start user=bob uid=1001 mode=login pid=1",
		},
		{
			name:  "refuse with reason",
			event: Event{Kind: EventRefuse, User: "bob", UID: 1001, Mode: "login", PID: 99, Reason: "user bob has no entry in the policy"},
			want:  `event=refuse user=bob uid=1001 mode=login pid=99 reason="user bob has no entry in the policy"`,
		},
		{
			name:  "refuse before the user is known",
			event: Event{Kind: EventRefuse, UID: 1002, Mode: "login", PID: 5, Reason: "uid 1002 has no passwd entry"},
			want:  `event=refuse user="" uid=1002 mode=login pid=5 reason="uid 1002 has no passwd entry"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.event.String(); got != tc.want {
				t.Errorf("String() =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// A value that could be read as more than one field, or end the line, is
// quoted, so that a user cannot forge fields in the audit log.
func TestSyslogLine(t *testing.T) {
	now := time.Date(2026, 12, 4, 9, 5, 7, 0, time.UTC)
	ev := Event{Kind: EventEnd, User: "erin", UID: 1003, Mode: "shared", PID: 4242, JailID: 4242, Duration: time.Minute}
	want := "<86>Dec  4 09:05:07 jailsh[4242]: event=end user=erin uid=1003 mode=shared pid=4242 status=0 duration=1m0s jail=4242\n"
	if got := syslogLine(now, 4242, ev); got != want {
		t.Errorf("syslogLine =\n%q, want\n%q", got, want)
	}
	refusal := syslogLine(now, 1, Event{Kind: EventRefuse, User: "x", Mode: "login", Reason: "no"})
	if !strings.HasPrefix(refusal, "<84>") {
		t.Errorf("refusal has priority %q, want <84> (authpriv.warning)", refusal[:4])
	}
}

func TestEventStringQuoting(t *testing.T) {
	tests := []struct {
		name    string
		command string
		want    string // the cmd field
	}{
		{"plain", "ls", `cmd=ls`},
		{"path and flags", "/usr/bin/ls -la", `cmd="/usr/bin/ls -la"`},
		{"space", "echo hi", `cmd="echo hi"`},
		{"double quote", `say"x`, `cmd="say\"x"`},
		{"newline", "ls\nevent=end status=0", `cmd="ls\nevent=end status=0"`},
		{"forged field", "x=y", `cmd="x=y"`},
		{"backslash", `a\b`, `cmd="a\\b"`},
		{"tab", "a\tb", `cmd="a\tb"`},
		{"escape character", "a\x1b[2Jb", `cmd="a\x1b[2Jb"`},
		{"DEL", "a\x7fb", `cmd="a\x7fb"`},
		{"non-ASCII", "écho", `cmd="écho"`},
		{"invalid UTF-8", "a\xffb", `cmd="a\xffb"`},
		{"single quote", "it's", `cmd=it's`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Event{Kind: EventStart, User: "alice", UID: 1000, Mode: "command", PID: 1, Command: tc.command}.String()
			want := "event=start user=alice uid=1000 mode=command pid=1 " + tc.want
			if got != want {
				t.Errorf("String() =\n%s\nwant\n%s", got, want)
			}
			if strings.ContainsAny(got, "\n\r") {
				t.Errorf("String() %q contains a line break", got)
			}
		})
	}
}

func TestEventStringQuotesEveryField(t *testing.T) {
	e := Event{Kind: EventRefuse, User: "a b", UID: 1, Mode: "x=y", Root: "/srv/my root", PID: 2, Reason: "bad\nline"}
	want := `event=refuse user="a b" uid=1 mode="x=y" root="/srv/my root" pid=2 reason="bad\nline"`
	if got := e.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
}

func TestEventStringLongCommand(t *testing.T) {
	tests := []struct {
		name    string
		command string
		want    string
	}{
		{"at the limit", strings.Repeat("a", 256), strings.Repeat("a", 256)},
		{"one byte over", strings.Repeat("a", 257), strings.Repeat("a", 256) + "..."},
		{"far over", strings.Repeat("b", 10000), strings.Repeat("b", 256) + "..."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := Event{Kind: EventEnd, User: "alice", UID: 1000, Mode: "command", PID: 1, Command: tc.command, Status: 2}
			got := e.String()
			want := "event=end user=alice uid=1000 mode=command pid=1 cmd=" + tc.want + " status=2 duration=0s"
			if got != want {
				t.Errorf("String() is %d bytes, want %d:\n%.80s...", len(got), len(want), got)
			}
			if !strings.HasSuffix(got, "status=2 duration=0s") {
				t.Errorf("String() = %.40s... does not end with the status", got)
			}
		})
	}
}

// A cut inside a multi-byte character leaves invalid UTF-8, which is
// quoted as \x escapes rather than written raw to syslog.
func TestEventStringCutMultibyte(t *testing.T) {
	cmd := strings.Repeat("a", 255) + "é" + "tail"
	got := Event{Kind: EventStart, User: "alice", UID: 1000, Mode: "command", PID: 1, Command: cmd}.String()
	want := `cmd="` + strings.Repeat("a", 255) + `\xc3..."`
	if !strings.HasSuffix(got, want) {
		t.Errorf("String() ends with %q, want %q", got[max(0, len(got)-20):], want[len(want)-10:])
	}
}
