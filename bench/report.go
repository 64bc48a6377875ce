package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// report collects the Markdown output of a run.
type report struct {
	b     strings.Builder
	notes []string
	goals []goal
}

// goal is one target and whether this run met it.
type goal struct {
	name, target, measured string
	met                    bool
}

// machine describes where the run happened.
type machine struct {
	cpu, kernel, debian, goVersion string
	cores                          int
	memory                         string
	load                           string
	jailsh                         string // commit and working-tree state built
	bwrap, hyperfine               string
	rootfs                         string
}

func (b *bench) machine() machine {
	m := machine{cores: runtime.NumCPU(), goVersion: runtime.Version(), rootfs: b.cfg.rootfs}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}

	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Machine[:])
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.SplitN(string(data), "\n", 2)[0], "MemTotal: %d kB", &kb)
		m.memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	if data, err := os.ReadFile("/etc/debian_version"); err == nil {
		m.debian = "Debian " + strings.TrimSpace(string(data))
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.load = strings.Join(strings.Fields(string(data))[:3], " ")
	}

	m.jailsh = "source " + b.cfg.src + ", not a git checkout"
	if b.tool.git != "" {
		rev, err := exec.Command(b.tool.git, "-C", b.cfg.src, "rev-parse", "--short", "HEAD").Output()
		if err == nil {
			m.jailsh = "commit " + strings.TrimSpace(string(rev))
			dirty, _ := exec.Command(b.tool.git, "-C", b.cfg.src, "status", "--porcelain", "--", "cmd", "jail", "policy", "go.mod", "go.sum").Output()
			if n := strings.Count(string(dirty), "\n"); n > 0 {
				m.jailsh += fmt.Sprintf(" with %d uncommitted files in cmd/, jail/, policy/ or go.mod/go.sum", n)
			}
		}
	}

	m.bwrap = versionOf(b.tool.bwrap, "--version")
	m.hyperfine = "not installed"
	if b.tool.hyperfine != "" {
		m.hyperfine = versionOf(b.tool.hyperfine, "--version")
	}
	return m
}

func versionOf(path string, args ...string) string {
	out, err := exec.Command(path, args...).Output()
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

func (r *report) header(m machine) {
	fmt.Fprintf(&r.b, "# jailsh benchmark, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	rows := [][]string{
		{"CPU", m.cpu},
		{"cores", fmt.Sprint(m.cores)},
		{"kernel", m.kernel},
		{"memory", m.memory},
		{"system", m.debian},
		{"load average at start", m.load},
		{"jailsh", m.jailsh + ", built by `make build` with " + m.goVersion},
		{"bubblewrap", m.bwrap},
		{"hyperfine", m.hyperfine},
		{"root filesystem", m.rootfs},
	}
	r.table([]string{"machine", ""}, rows)
}

func (r *report) section(title, intro string) {
	fmt.Fprintf(&r.b, "## %s\n\n%s\n\n", title, intro)
}

func (r *report) table(head []string, rows [][]string) {
	line := func(cells []string) {
		esc := make([]string, len(cells))
		for i, c := range cells {
			esc[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		fmt.Fprintf(&r.b, "| %s |\n", strings.Join(esc, " | "))
	}
	line(head)
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = "---"
	}
	line(sep)
	for _, row := range rows {
		line(row)
	}
	r.b.WriteString("\n")
}

// commands lists the exact command lines of a section.
func (r *report) commands(cmds []command) {
	r.b.WriteString("Command lines:\n\n")
	for _, c := range cmds {
		fmt.Fprintf(&r.b, "- %s: `%s`\n", c.label, c.line())
	}
	r.b.WriteString("\n")
}

// text adds a paragraph.
func (r *report) text(s string) {
	r.b.WriteString(s + "\n\n")
}

func (r *report) note(s string) {
	r.notes = append(r.notes, s)
	logf("%s", s)
}

func (r *report) goal(name, target, measured string, met bool) {
	r.goals = append(r.goals, goal{name, target, measured, met})
}

// maxRatio records a target that got must not exceed.
func (r *report) maxRatio(name string, got, limit float64) {
	measured := fmt.Sprintf("%.3f×", got)
	if got > limit {
		measured += fmt.Sprintf(", %.1f%% over the limit", (got/limit-1)*100)
	}
	r.goal(name, fmt.Sprintf("≤ %.2f×", limit), measured, got <= limit)
}

// minRatio records a target that got must reach.
func (r *report) minRatio(name string, got, limit float64) {
	measured := fmt.Sprintf("%.3f×", got)
	if got < limit {
		measured += fmt.Sprintf(", %.1f%% under the limit", (1-got/limit)*100)
	}
	r.goal(name, fmt.Sprintf("≥ %.2f×", limit), measured, got >= limit)
}

// targets closes the report with the targets and any notes.
func (r *report) targets() {
	r.section("Targets", "Each target against this run.")
	rows := [][]string{}
	for _, g := range r.goals {
		verdict := "missed"
		if g.met {
			verdict = "met"
		}
		rows = append(rows, []string{g.name, g.target, g.measured, verdict})
	}
	r.table([]string{"target", "limit", "measured", "verdict"}, rows)
	if len(r.notes) > 0 {
		r.b.WriteString("Notes:\n\n")
		for _, n := range r.notes {
			fmt.Fprintf(&r.b, "- %s\n", n)
		}
		r.b.WriteString("\n")
	}
}

func (r *report) String() string { return r.b.String() }
