package policy

import "testing"

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

func TestDefaultsAreKnown(t *testing.T) {
	for _, n := range DefaultDeniedSyscalls {
		if err := checkSyscallName(n); err != nil {
			t.Errorf("default denied system call: %v", err)
		}
	}
	for _, c := range DefaultCapabilities {
		if _, err := CapabilityNumber(c); err != nil {
			t.Errorf("default capability: %v", err)
		}
	}
	if err := checkSyscallName("no_such_call"); err == nil {
		t.Error("checkSyscallName(no_such_call): want an error")
	}
}
