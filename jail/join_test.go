package jail

import (
	"testing"
	"time"
)

func TestJailKey(t *testing.T) {
	base := Spec{Root: "/srv/r", Hostname: "h", Shared: true, Path: "/bin/bash", Argv: []string{"-bash"}, Env: []string{"TERM=xterm"}, Dir: "/home/a"}
	other := base
	other.Path, other.Argv, other.Env, other.Dir, other.TTY = "/bin/sh", []string{"sh", "-c", "x"}, []string{"TERM=vt100"}, "/", &WinSize{Rows: 1, Cols: 2}
	if JailKey(&base) != JailKey(&other) {
		t.Error("the program, environment, folder or terminal changed the key; logins with other commands must share a jail")
	}
	for name, change := range map[string]func(*Spec){
		"root":         func(s *Spec) { s.Root = "/srv/other" },
		"hostname":     func(s *Spec) { s.Hostname = "x" },
		"network":      func(s *Spec) { s.NewNetwork = true },
		"capabilities": func(s *Spec) { s.Capabilities = []string{"chown"} },
		"linger":       func(s *Spec) { s.Linger = time.Minute },
		"binds":        func(s *Spec) { s.Binds = []Bind{{Source: "/a", Target: "/a"}} },
	} {
		c := base
		change(&c)
		if JailKey(&c) == JailKey(&base) {
			t.Errorf("a change of %s kept the key: a login would join a jail built from another policy", name)
		}
	}
}

func TestChooseJail(t *testing.T) {
	const key = "k"
	shared := func(state string) *JailStatus {
		return &JailStatus{Mode: ModeShared, State: state, Key: key}
	}
	cases := []struct {
		name  string
		cands []candidate
		mine  int
		want  choice
		pid   int
	}{
		{"nothing runs: start", nil, 0, choiceStart, 0},
		{"a ready jail: join it",
			[]candidate{{PID: 10, StartTime: 5, Status: shared(stateReady)}}, 0, choiceJoin, 10},
		{"a ready jail younger than mine: join it, mine is dropped",
			[]candidate{{PID: 10, StartTime: 5, Status: shared(stateStarting)}, {PID: 20, StartTime: 9, Status: shared(stateReady)}}, 10, choiceJoin, 20},
		{"only mine: lead",
			[]candidate{{PID: 10, StartTime: 5, Status: shared(stateStarting)}}, 10, choiceLead, 10},
		{"an older jail still deciding: wait",
			[]candidate{{PID: 10, StartTime: 5, Status: shared(stateStarting)}, {PID: 11, StartTime: 5, Status: shared(stateStarting)}}, 11, choiceWait, 0},
		{"an older process that does not answer yet: wait",
			[]candidate{{PID: 10, StartTime: 4}, {PID: 11, StartTime: 5, Status: shared(stateStarting)}}, 11, choiceWait, 0},
		{"a younger jail deciding: lead",
			[]candidate{{PID: 10, StartTime: 5, Status: shared(stateStarting)}, {PID: 9, StartTime: 6, Status: shared(stateStarting)}}, 10, choiceLead, 10},
		{"same tick, lower PID is older",
			[]candidate{{PID: 12, StartTime: 5, Status: shared(stateStarting)}, {PID: 11, StartTime: 5, Status: shared(stateStarting)}}, 12, choiceWait, 0},
		{"an older private jail of the user: lead",
			[]candidate{{PID: 5, StartTime: 1, Status: &JailStatus{Mode: ModePrivate, State: stateReady, Key: key}}, {PID: 10, StartTime: 5, Status: shared(stateStarting)}}, 10, choiceLead, 10},
		{"a ready jail of an older policy: start",
			[]candidate{{PID: 5, StartTime: 1, Status: &JailStatus{Mode: ModeShared, State: stateReady, Key: "old"}}}, 0, choiceStart, 0},
		{"a closing jail: start",
			[]candidate{{PID: 5, StartTime: 1, Status: shared(stateClosing)}}, 0, choiceStart, 0},
		{"a jail deciding and none of mine: wait for it",
			[]candidate{{PID: 5, StartTime: 1, Status: shared(stateStarting)}}, 0, choiceWait, 0},
	}
	for _, c := range cases {
		got, cand := chooseJail(c.cands, key, c.mine)
		if got != c.want || (got == choiceJoin || got == choiceLead) && cand.PID != c.pid {
			t.Errorf("%s: chooseJail = %d, PID %d; want %d, PID %d", c.name, got, cand.PID, c.want, c.pid)
		}
	}
}
