package jail

import (
	"path"
	"slices"
	"strings"
	"testing"
)

func plan(t *testing.T, s *Spec) []Step {
	t.Helper()
	steps, err := Plan(s)
	if err != nil {
		t.Fatalf("Plan(%+v): %v", s, err)
	}
	return steps
}

func stepStrings(steps []Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.String()
	}
	return out
}

// findSteps returns the indexes of the steps with op and target.
func findSteps(steps []Step, op Op, target string) []int {
	var idx []int
	for i, s := range steps {
		if s.Op == op && s.Target == target {
			idx = append(idx, i)
		}
	}
	return idx
}

// findStep returns the one step with op and target, failing the test
// when there is none or more than one.
func findStep(t *testing.T, steps []Step, op Op, target string) (int, Step) {
	t.Helper()
	idx := findSteps(steps, op, target)
	if len(idx) != 1 {
		t.Fatalf("found %d %s steps on %s, want 1; plan:\n%s", len(idx), op, target, strings.Join(stepStrings(steps), "\n"))
	}
	return idx[0], steps[idx[0]]
}

// procSteps are the steps of every plan that hide parts of /proc.
var procSteps = []string{
	"mask /dev/null /proc/kcore optional",
	"mask /dev/null /proc/keys optional",
	"mask /dev/null /proc/timer_list optional",
	"mask /dev/null /proc/sched_debug optional",
	"mask /dev/null /proc/latency_stats optional",
	"mask /dev/null /proc/timer_stats optional",
	"mask /dev/null /proc/acpi optional",
	"mask /dev/null /proc/scsi optional",
	"mask /dev/null /proc/asound optional",
	"read-only /proc/sys optional",
	"read-only /proc/sysrq-trigger optional",
	"read-only /proc/irq optional",
	"read-only /proc/bus optional",
	"read-only /proc/fs optional",
}

// devSteps are the steps of every plan between the /dev tmpfs and /tmp.
var devSteps = []string{
	"bind-device /dev/null /dev/null create",
	"bind-device /dev/zero /dev/zero create",
	"bind-device /dev/full /dev/full create",
	"bind-device /dev/random /dev/random create",
	"bind-device /dev/urandom /dev/urandom create",
	"bind-device /dev/tty /dev/tty create",
	"devpts /dev/pts newinstance,ptmxmode=0666,mode=0620 create",
	"tmpfs /dev/shm mode=1777 create",
	"symlink pts/ptmx /dev/ptmx",
	"symlink /proc/self/fd /dev/fd",
	"symlink /proc/self/fd/0 /dev/stdin",
	"symlink /proc/self/fd/1 /dev/stdout",
	"symlink /proc/self/fd/2 /dev/stderr",
}

func TestPlanDirectoryRoot(t *testing.T) {
	s := &Spec{
		Root:         "/srv/jails/bookworm",
		RootReadOnly: true,
		Home:         "/home/alice",
		Binds:        []Bind{{Source: "/srv/data", Target: "/data", ReadOnly: true}},
	}
	want := slices.Concat(
		[]string{"make-rprivate /", "bind-root /srv/jails/bookworm ro", "proc /proc"},
		procSteps,
		[]string{"tmpfs /dev mode=0755"},
		devSteps,
		[]string{
			"tmpfs /tmp mode=1777",
			"tmpfs /home mode=0755",
			"bind /home/alice /home/alice create",
			"bind /srv/data /data ro",
			"pivot-root",
		},
	)
	if got := stepStrings(plan(t, s)); !slices.Equal(got, want) {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPlanTmpfsRoot(t *testing.T) {
	s := &Spec{
		RootTmpfs: true,
		Home:      "/home/alice",
		Binds:     []Bind{{Source: "/usr", Target: "/usr", ReadOnly: true}},
	}
	want := slices.Concat(
		[]string{"make-rprivate /", "tmpfs-root mode=0755", "proc /proc create"},
		procSteps,
		[]string{"tmpfs /dev mode=0755 create"},
		devSteps,
		[]string{
			"tmpfs /tmp mode=1777 create",
			"bind /home/alice /home/alice create",
			"bind /usr /usr ro create",
			"pivot-root",
		},
	)
	if got := stepStrings(plan(t, s)); !slices.Equal(got, want) {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPlanOrder(t *testing.T) {
	tests := []struct {
		name     string
		spec     Spec
		rootStep Op
	}{
		{"directory root read-only", Spec{Root: "/srv/r", RootReadOnly: true, Home: "/home/alice"}, OpRootBind},
		{"directory root writable", Spec{Root: "/srv/r", Home: "/home/alice"}, OpRootBind},
		{"tmpfs root read-only", Spec{RootTmpfs: true, RootReadOnly: true, Home: "/home/alice"}, OpRootTmpfs},
		{"tmpfs root writable", Spec{RootTmpfs: true}, OpRootTmpfs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps := plan(t, &tc.spec)
			n := len(steps)
			if steps[0].Op != OpMakePrivate || steps[0].Target != "/" {
				t.Errorf("first step = %q, want make-rprivate /", steps[0])
			}
			if steps[1].Op != tc.rootStep {
				t.Errorf("second step = %q, want %s", steps[1], tc.rootStep)
			}
			if steps[n-1].Op != OpPivot {
				t.Errorf("last step = %q, want pivot-root", steps[n-1])
			}
			if len(findSteps(steps, OpPivot, "")) != 1 {
				t.Errorf("plan has %d pivot-root steps, want 1", len(findSteps(steps, OpPivot, "")))
			}

			// A directory root is read-only from its bind on, with the
			// host's mounts below it; a tmpfs root only once filled.
			ro := findSteps(steps, OpRootRO, "")
			switch {
			case tc.spec.RootReadOnly && tc.spec.RootTmpfs:
				if len(ro) != 1 || ro[0] != n-2 {
					t.Errorf("remount-root-ro at %v, want exactly one, at %d right before pivot-root", ro, n-2)
				}
			case len(ro) != 0:
				t.Errorf("remount-root-ro at %v, want none for a directory root or a writable one", ro)
			}
			if !tc.spec.RootTmpfs && steps[1].ReadOnly != tc.spec.RootReadOnly {
				t.Errorf("bind-root read-only = %t, want %t", steps[1].ReadOnly, tc.spec.RootReadOnly)
			}

			proc, _ := findStep(t, steps, OpProc, "/proc")
			dev, _ := findStep(t, steps, OpTmpfs, "/dev")
			tmp, _ := findStep(t, steps, OpTmpfs, "/tmp")
			pts, _ := findStep(t, steps, OpDevpts, "/dev/pts")
			shm, _ := findStep(t, steps, OpTmpfs, "/dev/shm")
			if proc < 2 || dev < 2 || tmp < 2 {
				t.Errorf("/proc at %d, /dev at %d, /tmp at %d, want all after the root (step 1)", proc, dev, tmp)
			}
			if pts < dev || shm < dev {
				t.Errorf("/dev/pts at %d and /dev/shm at %d come before the /dev tmpfs at %d", pts, shm, dev)
			}
			for _, node := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
				i, s := findStep(t, steps, OpDevice, "/dev/"+node)
				if i < dev {
					t.Errorf("/dev/%s bound at %d, before the /dev tmpfs at %d", node, i, dev)
				}
				if s.Source != "/dev/"+node {
					t.Errorf("/dev/%s source = %q, want the host's /dev/%s", node, s.Source, node)
				}
				if !s.Create || !s.File {
					t.Errorf("/dev/%s Create = %v, File = %v, want both true", node, s.Create, s.File)
				}
			}
		})
	}
}

func TestPlanHome(t *testing.T) {
	tests := []struct {
		name         string
		spec         Spec
		parentTmpfs  int  // tmpfs steps on the home's parent folder
		parentCreate bool // the parent's tmpfs may create its mount point
		bindCreate   bool
	}{
		{"other homes hidden in directory root", Spec{Root: "/srv/r", Home: "/home/alice"}, 1, false, true},
		{"deep home in directory root", Spec{Root: "/srv/r", Home: "/srv/homes/alice"}, 1, false, true},
		{"no tmpfs over the root for a top-level home", Spec{Root: "/srv/r", Home: "/alice"}, 0, false, false},
		{"no second tmpfs on the jail's /tmp", Spec{Root: "/srv/r", Home: "/tmp/alice"}, 1, false, true},
		{"no extra tmpfs in a tmpfs root", Spec{RootTmpfs: true, Home: "/home/alice"}, 0, false, true},
		{"deep home in a tmpfs root", Spec{RootTmpfs: true, Home: "/srv/homes/alice"}, 0, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps := plan(t, &tc.spec)
			home := tc.spec.Home
			bindAt, bind := findStep(t, steps, OpBind, home)
			if bind.Source != home {
				t.Errorf("home bind source = %q, want %q", bind.Source, home)
			}
			if bind.Create != tc.bindCreate {
				t.Errorf("home bind Create = %v, want %v", bind.Create, tc.bindCreate)
			}
			if bind.ReadOnly {
				t.Error("home bind is read-only, want writable")
			}

			parent := path.Dir(home)
			tmpfs := findSteps(steps, OpTmpfs, parent)
			if len(tmpfs) != tc.parentTmpfs {
				t.Fatalf("%d tmpfs steps on %s, want %d", len(tmpfs), parent, tc.parentTmpfs)
			}
			if len(tmpfs) == 0 {
				return
			}
			if tmpfs[0] > bindAt {
				t.Errorf("tmpfs on %s at step %d, after the home bind at %d", parent, tmpfs[0], bindAt)
			}
			if got := steps[tmpfs[0]].Create; got != tc.parentCreate {
				t.Errorf("tmpfs on %s Create = %v, want %v", parent, got, tc.parentCreate)
			}
		})
	}
}

func TestPlanNoHome(t *testing.T) {
	steps := plan(t, &Spec{Root: "/srv/r"})
	for _, s := range steps {
		if s.Op == OpBind {
			t.Errorf("plan without home or binds has step %q", s)
		}
		if s.Op == OpTmpfs && s.Target == "/home" {
			t.Errorf("plan without home has step %q", s)
		}
	}
}

func TestPlanBinds(t *testing.T) {
	type bindWant struct {
		target string
		create bool
	}
	tests := []struct {
		name  string
		spec  Spec
		binds []bindWant // in plan order
	}{
		{
			name:  "no target created in the host's tree",
			spec:  Spec{Root: "/srv/r", Binds: []Bind{{"/srv/data", "/data", true}, {"/opt/x", "/opt/x", false}}},
			binds: []bindWant{{"/data", false}, {"/opt/x", false}},
		},
		{
			name:  "target created in the jail's /tmp",
			spec:  Spec{Root: "/srv/r", Binds: []Bind{{"/srv/cache", "/tmp/cache", false}}},
			binds: []bindWant{{"/tmp/cache", true}},
		},
		{
			name:  "target created in the jail's /dev/shm",
			spec:  Spec{Root: "/srv/r", Binds: []Bind{{"/srv/shm", "/dev/shm/x", false}}},
			binds: []bindWant{{"/dev/shm/x", true}},
		},
		{
			name:  "target created beside the home",
			spec:  Spec{Root: "/srv/r", Home: "/home/alice", Binds: []Bind{{"/srv/shared", "/home/shared", true}}},
			binds: []bindWant{{"/home/alice", true}, {"/home/shared", true}},
		},
		{
			name:  "no target created inside the home",
			spec:  Spec{Root: "/srv/r", Home: "/home/alice", Binds: []Bind{{"/srv/w", "/home/alice/work", false}}},
			binds: []bindWant{{"/home/alice", true}, {"/home/alice/work", false}},
		},
		{
			name:  "every target created in a tmpfs root",
			spec:  Spec{RootTmpfs: true, Binds: []Bind{{"/usr", "/usr", true}, {"/srv/data", "/data", false}}},
			binds: []bindWant{{"/usr", true}, {"/data", true}},
		},
		{
			name:  "no target created inside an earlier bind",
			spec:  Spec{RootTmpfs: true, Binds: []Bind{{"/usr", "/usr", true}, {"/srv/local", "/usr/local", true}}},
			binds: []bindWant{{"/usr", true}, {"/usr/local", false}},
		},
		{
			name:  "no target created inside the home in a tmpfs root",
			spec:  Spec{RootTmpfs: true, Home: "/home/alice", Binds: []Bind{{"/srv/w", "/home/alice/work", false}}},
			binds: []bindWant{{"/home/alice", true}, {"/home/alice/work", false}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps := plan(t, &tc.spec)
			var got []Step
			for _, s := range steps {
				if s.Op == OpBind {
					got = append(got, s)
				}
			}
			if len(got) != len(tc.binds) {
				t.Fatalf("plan has %d bind steps %q, want %d", len(got), stepStrings(got), len(tc.binds))
			}
			for i, w := range tc.binds {
				if got[i].Target != w.target {
					t.Errorf("bind %d target = %q, want %q", i, got[i].Target, w.target)
				}
				if got[i].Create != w.create {
					t.Errorf("bind on %s Create = %v, want %v", w.target, got[i].Create, w.create)
				}
			}
			for _, b := range tc.spec.Binds {
				_, s := findStep(t, steps, OpBind, b.Target)
				if s.Source != b.Source {
					t.Errorf("bind on %s source = %q, want %q", b.Target, s.Source, b.Source)
				}
				if s.ReadOnly != b.ReadOnly {
					t.Errorf("bind on %s ReadOnly = %v, want %v", b.Target, s.ReadOnly, b.ReadOnly)
				}
			}
		})
	}
}

func TestCheckSpec(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want string // part of the error, or "" for a valid spec
	}{
		{"valid directory root", Spec{Root: "/srv/r", Home: "/home/a", Binds: []Bind{{Source: "/a", Target: "/b"}}}, ""},
		{"valid tmpfs root", Spec{RootTmpfs: true}, ""},
		{"both roots", Spec{Root: "/srv/r", RootTmpfs: true}, "exactly one of a root path and a tmpfs root"},
		{"neither root", Spec{}, "exactly one of a root path and a tmpfs root"},
		{"relative root", Spec{Root: "srv/r"}, `path "srv/r" is not absolute and clean`},
		{"unclean root", Spec{Root: "/srv/../r"}, `path "/srv/../r" is not absolute and clean`},
		{"relative home", Spec{RootTmpfs: true, Home: "home/a"}, `path "home/a" is not absolute and clean`},
		{"unclean home", Spec{RootTmpfs: true, Home: "/home/a/"}, `path "/home/a/" is not absolute and clean`},
		{"relative bind source", Spec{RootTmpfs: true, Binds: []Bind{{Source: "a", Target: "/b"}}}, `path "a" is not absolute and clean`},
		{"relative bind target", Spec{RootTmpfs: true, Binds: []Bind{{Source: "/a", Target: "b"}}}, `path "b" is not absolute and clean`},
		{"unclean bind target", Spec{RootTmpfs: true, Binds: []Bind{{Source: "/a", Target: "/b/../../c"}}}, `path "/b/../../c" is not absolute and clean`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkSpec(&tc.spec)
			if tc.want == "" {
				if err != nil {
					t.Errorf("checkSpec = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("checkSpec = nil, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("checkSpec = %q, want it to contain %q", err, tc.want)
			}
			steps, err := Plan(&tc.spec)
			if err == nil {
				t.Errorf("Plan accepted the spec and returned %d steps", len(steps))
			}
		})
	}
}

func TestStepString(t *testing.T) {
	tests := []struct {
		step Step
		want string
	}{
		{Step{Op: OpPivot}, "pivot-root"},
		{Step{Op: OpBind, Source: "/a", Target: "/b", ReadOnly: true, Create: true}, "bind /a /b ro create"},
		{Step{Op: OpTmpfs, Target: "/tmp", Data: "mode=1777"}, "tmpfs /tmp mode=1777"},
		{Step{Op: OpRootTmpfs, Data: "mode=0755"}, "tmpfs-root mode=0755"},
	}
	for _, tc := range tests {
		if got := tc.step.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// TestPlanRejectsBindOverHome guards against a policy mount that would
// hide the home folder bound below it.
func TestPlanRejectsBindOverHome(t *testing.T) {
	for _, target := range []string{"/home", "/home/alice", "/"} {
		s := &Spec{Root: "/srv/r", Home: "/home/alice", Binds: []Bind{{Source: "/srv/homes", Target: target}}}
		_, err := Plan(s)
		if err == nil || !strings.Contains(err.Error(), "would cover the home folder /home/alice") {
			t.Errorf("bind on %s: err = %v, want it to name the covered home", target, err)
		}
	}
	s := &Spec{Root: "/srv/r", Home: "/home/alice", Binds: []Bind{{Source: "/srv/x", Target: "/home/alice2"}}}
	if _, err := Plan(s); err != nil {
		t.Errorf("bind on /home/alice2, a sibling of the home: %v", err)
	}
}
