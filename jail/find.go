package jail

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// procStat holds the fields jailsh reads from /proc/PID/stat.
type procStat struct {
	Comm      string
	PPID      int
	StartTime uint64 // clock ticks after boot
}

// parseStat parses /proc/PID/stat. The command name is in parentheses
// and may itself contain spaces and parentheses, so the fields after it
// are found from the last ')'.
func parseStat(data string) (procStat, error) {
	open, end := strings.IndexByte(data, '('), strings.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("malformed stat: %.40q", data)
	}
	// Fields from the state on: state is field 3 of stat(5).
	f := strings.Fields(data[end+1:])
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("stat has %d fields after the name, want 20 or more", len(f))
	}
	ppid, err1 := strconv.Atoi(f[1])
	start, err2 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil {
		return procStat{}, fmt.Errorf("malformed stat: %.40q", data)
	}
	return procStat{Comm: data[open+1 : end], PPID: ppid, StartTime: start}, nil
}

// procStatus holds the fields jailsh reads from /proc/PID/status.
type procStatus struct {
	UID   int   // real uid
	NSpid []int // PID in each PID namespace, outermost first
}

func parseStatus(data string) (procStatus, error) {
	var s procStatus
	uidSeen := false
	for _, line := range strings.Split(data, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(value)
		switch key {
		case "Uid":
			if len(f) == 0 {
				return s, fmt.Errorf("empty Uid line")
			}
			uid, err := strconv.Atoi(f[0])
			if err != nil {
				return s, fmt.Errorf("malformed Uid line %q", line)
			}
			s.UID, uidSeen = uid, true
		case "NSpid":
			for _, p := range f {
				n, err := strconv.Atoi(p)
				if err != nil {
					return s, fmt.Errorf("malformed NSpid line %q", line)
				}
				s.NSpid = append(s.NSpid, n)
			}
		}
	}
	if !uidSeen {
		return s, fmt.Errorf("status has no Uid line")
	}
	return s, nil
}

// isJailInit reports whether a process is the init of a jail: named
// jailsh-init, PID 1 of a PID namespace below the reader's, and running
// a jailsh or jailctl binary that only root can change. A user can name
// any process jailsh-init, but not give it such a binary.
func isJailInit(st procStat, status procStatus, exe string, exeOwner uint32, exeMode uint32) bool {
	if st.Comm != InitArg0 || len(status.NSpid) < 2 || status.NSpid[len(status.NSpid)-1] != 1 {
		return false
	}
	return isJailshBinary(exe, exeOwner, exeMode)
}

// isJailshBinary reports whether exe is a jailsh or jailctl binary that
// only root can change.
func isJailshBinary(exe string, owner uint32, mode uint32) bool {
	base := filepath.Base(exe)
	return (base == "jailsh" || base == "jailctl") && owner == 0 && mode&0o022 == 0
}

// rootOf returns the jail's root filesystem from the init's mountinfo:
// the path within its file system of the mount on "/", or "tmpfs".
func rootOf(mountinfo string) string {
	for _, line := range strings.Split(mountinfo, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || f[4] != "/" || len(g) < 1 {
			continue
		}
		if g[0] == "tmpfs" {
			return "tmpfs"
		}
		return unescapeMountinfo(f[3])
	}
	return ""
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) of
// mountinfo fields.
func unescapeMountinfo(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
