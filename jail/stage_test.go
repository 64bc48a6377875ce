package jail

import (
	"strconv"
	"testing"

	"github.com/jailsh/jailsh/policy"
)

func TestStageArgv(t *testing.T) {
	all := append([]string{}, policy.CapabilityNames...)
	cases := []struct {
		name      string
		spec      Spec
		wantStage bool
	}{
		{"trimmed set goes through the stage", Spec{Capabilities: policy.DefaultCapabilities}, true},
		{"full set needs no stage", Spec{Capabilities: all}, false},
		{"own uid needs no stage", Spec{Capabilities: policy.DefaultCapabilities, KeepUID: true}, false},
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
			mask, _ := capMask(policy.DefaultCapabilities)
			if argv[1] != strconv.FormatUint(mask, 16) {
				t.Errorf("%s: mask = %s, want %x", c.name, argv[1], mask)
			}
		} else if len(argv) != 1 || argv[0] != "-bash" {
			t.Errorf("%s: argv = %q, want the program's own", c.name, argv)
		}
	}
}
