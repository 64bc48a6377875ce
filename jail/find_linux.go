package jail

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Info describes a running jail, from what the kernel reports about its
// init.
type Info struct {
	ID        int       `json:"id"` // host PID of the jail's init
	UID       int       `json:"uid"`
	User      string    `json:"user"`
	Started   time.Time `json:"started"`
	Root      string    `json:"root"`
	Network   string    `json:"network"` // "none" or "host"
	Processes int       `json:"processes"`
	// Mode and Sessions are what the jail's init reports; FindJails
	// leaves them empty, and QueryStatus fills them in.
	Mode     string `json:"mode,omitempty"` // "private" or "shared"
	Sessions *int   `json:"sessions,omitempty"`
	// Policy is the state of a shared jail's policy: "current" when built
	// from the user's policy as it is now, "changed" when built from an
	// older one, "invalid" when the policy fails to load now. jailctl list
	// fills it in.
	Policy    string `json:"policy,omitempty"`
	startTime uint64
}

// FindJails returns every running jail, found through procRoot (normally
// /proc). It reads other users' processes, so it needs root. Users are
// named through lookupName, which returns "" for an unknown uid.
func FindJails(procRoot string, lookupName func(uid int) string) ([]Info, error) {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, err
	}
	hostNet, _ := os.Readlink(filepath.Join(procRoot, "self/ns/net"))
	pidNS := map[string]int{} // PID namespace link -> processes in it
	var jails []Info
	var nsOf []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join(procRoot, e.Name())
		ns, _ := os.Readlink(filepath.Join(dir, "ns/pid"))
		pidNS[ns]++
		info, ok := readInit(dir, pid)
		if !ok {
			continue
		}
		if net, _ := os.Readlink(filepath.Join(dir, "ns/net")); net == hostNet {
			info.Network = "host"
		} else {
			info.Network = "none"
		}
		info.User = lookupName(info.UID)
		jails = append(jails, info)
		nsOf = append(nsOf, ns)
	}
	boot := bootTime(procRoot)
	for i := range jails {
		jails[i].Processes = pidNS[nsOf[i]]
		jails[i].Started = boot.Add(time.Duration(jails[i].startTime) * time.Second / clockTicks)
	}
	sort.Slice(jails, func(a, b int) bool { return jails[a].ID < jails[b].ID })
	return jails, nil
}

// readInit returns the jail described by the process in dir, if it is a
// jail's init.
func readInit(dir string, pid int) (Info, bool) {
	st, ok := readStat(dir)
	if !ok || st.Comm != InitArg0 {
		return Info{}, false
	}
	statusData, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return Info{}, false
	}
	status, err := parseStatus(string(statusData))
	if err != nil {
		return Info{}, false
	}
	exe, owner, mode, ok := readExe(dir)
	if !ok || !isJailInit(st, status, exe, owner, mode) {
		return Info{}, false
	}
	mountinfo, _ := os.ReadFile(filepath.Join(dir, "mountinfo"))
	return Info{ID: pid, UID: status.UID, Root: rootOf(string(mountinfo)), startTime: st.StartTime}, true
}

// readProcess returns the process in dir, whose status the caller read,
// if it runs a jailsh binary.
func readProcess(dir string, pid int, status procStatus) (Info, bool) {
	st, ok := readStat(dir)
	if !ok {
		return Info{}, false
	}
	exe, owner, mode, ok := readExe(dir)
	if !ok || !isJailshBinary(exe, owner, mode) {
		return Info{}, false
	}
	return Info{ID: pid, UID: status.UID, startTime: st.StartTime}, true
}

func readStat(dir string) (procStat, bool) {
	data, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return procStat{}, false
	}
	st, err := parseStat(string(data))
	return st, err == nil
}

// readExe returns the path, owner and mode of the binary the process in
// dir runs.
func readExe(dir string) (string, uint32, uint32, bool) {
	exe, err := os.Readlink(filepath.Join(dir, "exe"))
	if err != nil {
		return "", 0, 0, false
	}
	var fi unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "exe"), &fi); err != nil {
		return "", 0, 0, false
	}
	return exe, fi.Uid, fi.Mode, true
}

// clockTicks is USER_HZ, the unit of the start time in /proc/PID/stat,
// which is 100 on every Linux architecture Go supports.
const clockTicks = 100

// bootTime returns the boot time from the btime line of procRoot/stat,
// which, unlike now minus the uptime, does not move by a second between
// two calls.
func bootTime(procRoot string) time.Time {
	data, err := os.ReadFile(filepath.Join(procRoot, "stat"))
	if err != nil {
		return time.Time{}
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			if sec, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return time.Unix(sec, 0)
			}
		}
	}
	return time.Time{}
}

// StopJail kills the init of jail j, and with it every process in the
// jail. The init is pinned with a pidfd and checked again before the
// signal, so that a PID reused since FindJails is never signalled.
func StopJail(procRoot string, j Info) error {
	pidfd, err := unix.PidfdOpen(j.ID, 0)
	if err != nil {
		return fmt.Errorf("open jail %d: %w", j.ID, err)
	}
	defer unix.Close(pidfd)
	again, ok := readInit(filepath.Join(procRoot, strconv.Itoa(j.ID)), j.ID)
	if !ok || again.UID != j.UID || again.startTime != j.startTime {
		return fmt.Errorf("jail %d has ended", j.ID)
	}
	if err := unix.PidfdSendSignal(pidfd, syscall.SIGKILL, nil, 0); err != nil {
		return fmt.Errorf("kill jail %d: %w", j.ID, err)
	}
	return nil
}
