package jail

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jailsh/jailsh/policy"
	"golang.org/x/sys/unix"
)

// nestedStatus starts sleep through startNested and returns its
// /proc/PID/status and uid_map.
func nestedStatus(t *testing.T, keep uint64) (status, uidMap string) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Fatal("this test maps uid 0 of the host into a user namespace, which needs root")
	}
	pid, err := startNested("/bin/sleep", []string{"sleep", "30"}, []string{"PATH=/bin"}, "/", -1, keep, false, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = unix.Kill(pid, unix.SIGKILL)
		_, _ = unix.Wait4(pid, nil, 0, nil)
	}()
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	data, err := os.ReadFile(dir + "status")
	if err != nil {
		t.Fatal(err)
	}
	m, err := os.ReadFile(dir + "uid_map")
	if err != nil {
		t.Fatal(err)
	}
	return string(data), string(m)
}

func TestStartNestedTrimsBoundingSet(t *testing.T) {
	keep, err := capMask(policy.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	status, uidMap := nestedStatus(t, keep)
	if want := fmt.Sprintf("CapBnd:\t%016x\n", keep); !strings.Contains(status, want) {
		t.Errorf("bounding set of the program, want %q:\n%s", want, status)
	}
	if f := strings.Fields(uidMap); len(f) != 3 || f[0] != "0" || f[2] != "1" {
		t.Errorf("uid_map = %q, want one uid mapped to 0", uidMap)
	}
	if !strings.Contains(status, "Name:\tsleep\n") {
		t.Errorf("the program did not run:\n%s", status)
	}
}

func TestStartNestedFailedSteps(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test maps uid 0 of the host into a user namespace, which needs root")
	}
	cases := []struct {
		name, prog, dir, want string
	}{
		{"missing program", "/no/such/program", "/", "execute the program in the jail: no such file or directory"},
		{"missing folder", "/bin/true", "/no/such/folder", "change folder in the jail: no such file or directory"},
	}
	for _, c := range cases {
		_, err := startNested(c.prog, []string{"x"}, nil, c.dir, -1, ^uint64(0), false, 0, 0)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}
