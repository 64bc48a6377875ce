package main

import (
	"strings"
	"testing"
)

// hardened is what sshd -T prints for an account in the Match block of
// contrib/sshd/jailsh.conf (trimmed to the keywords checked).
const hardened = `allowtcpforwarding no
allowstreamlocalforwarding no
allowagentforwarding no
x11forwarding no
permittunnel no
permituserenvironment no
chrootdirectory none
forcecommand none
subsystem sftp /usr/lib/openssh/sftp-server
`

func TestSSHDFindings(t *testing.T) {
	cases := []struct {
		name   string
		change string // lines that replace those of hardened
		shell  string
		want   []string // one substring per expected finding
	}{
		{"hardened block passes", "", "/usr/local/bin/jailsh", nil},
		{"tcp forwarding", "allowtcpforwarding yes", "/usr/local/bin/jailsh", []string{"AllowTcpForwarding yes"}},
		{"local forwarding only still reaches out", "allowtcpforwarding local", "/usr/local/bin/jailsh", []string{"AllowTcpForwarding local"}},
		{"agent and x11", "allowagentforwarding yes\nx11forwarding yes", "/usr/local/bin/jailsh", []string{"AllowAgentForwarding", "X11Forwarding"}},
		{"disableforwarding covers forwarding", "disableforwarding yes\nallowtcpforwarding yes\nx11forwarding yes", "/usr/local/bin/jailsh", nil},
		{"user environment", "permituserenvironment yes", "/usr/local/bin/jailsh", []string{"PermitUserEnvironment yes"}},
		{"chroot conflicts", "chrootdirectory /srv/chroot", "/usr/local/bin/jailsh", []string{"ChrootDirectory /srv/chroot"}},
		{"another forced command", "forcecommand /usr/bin/menu", "/usr/local/bin/jailsh", []string{"ForceCommand /usr/bin/menu"}},
		{"forced jailsh with bash as shell", "forcecommand jailsh", "/bin/bash", []string{"make jailsh the login shell too"}},
		{"forced jailsh with jailsh as shell", "forcecommand /usr/local/bin/jailsh", "/usr/local/bin/jailsh", nil},
		{"internal sftp", "subsystem sftp internal-sftp", "/usr/local/bin/jailsh", []string{"internal-sftp"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := parseSSHDConfig(hardened)
			for k, v := range parseSSHDConfig(c.change) {
				cfg[k] = v
			}
			got := sshdFindings(cfg, c.shell)
			if len(got) != len(c.want) {
				t.Fatalf("findings = %q, want %d", got, len(c.want))
			}
			for i, w := range c.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("finding %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
