package jail

import (
	"strconv"
	"testing"
)

func TestCapabilityNumber(t *testing.T) {
	cases := []struct {
		name string
		want int
	}{
		{"chown", 0}, {"CAP_CHOWN", 0}, {"net_admin", 12}, {"CAP_SYS_ADMIN", 21}, {"checkpoint_restore", 40},
	}
	for _, c := range cases {
		got, err := CapabilityNumber(c.name)
		if err != nil || got != c.want {
			t.Errorf("CapabilityNumber(%q) = %d, %v; want %d", c.name, got, err, c.want)
		}
	}
	if _, err := CapabilityNumber("cap_fly"); err == nil {
		t.Error("CapabilityNumber(cap_fly): want an error for an unknown name")
	}
}

func TestStageArgv(t *testing.T) {
	all := append([]string{}, capNames...)
	cases := []struct {
		name      string
		spec      Spec
		wantStage bool
	}{
		{"trimmed set goes through the stage", Spec{Capabilities: DefaultCapabilities}, true},
		{"full set needs no stage", Spec{Capabilities: all}, false},
		{"own uid needs no stage", Spec{Capabilities: DefaultCapabilities, KeepUID: true}, false},
	}
	for _, c := range cases {
		c.spec.Argv = []string{"-bash"}
		path, argv, err := stageArgv(&c.spec, "/bin/bash")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := path == "/proc/self/exe"; got != c.wantStage {
			t.Errorf("%s: path = %q", c.name, path)
		}
		if c.wantStage {
			if len(argv) != 4 || argv[0] != ExecArg0 || argv[2] != "/bin/bash" || argv[3] != "-bash" {
				t.Errorf("%s: argv = %q, want jailsh-exec MASK /bin/bash -bash", c.name, argv)
			}
			mask, _ := capMask(DefaultCapabilities)
			if argv[1] != strconv.FormatUint(mask, 16) {
				t.Errorf("%s: mask = %s, want %x", c.name, argv[1], mask)
			}
		} else if len(argv) != 1 || argv[0] != "-bash" {
			t.Errorf("%s: argv = %q, want the program's own", c.name, argv)
		}
	}
}
