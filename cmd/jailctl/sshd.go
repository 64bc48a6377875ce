package main

import (
	"bufio"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// sshdConfig is the effective sshd configuration for one connection, as
// `sshd -T` prints it: lower-case keywords and their values.
type sshdConfig map[string]string

// parseSSHDConfig reads the output of `sshd -T`.
func parseSSHDConfig(out string) sshdConfig {
	c := sshdConfig{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		key, value, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if key == "" {
			continue
		}
		// Repeated keywords (subsystem, ...) keep every value.
		if old, ok := c[key]; ok {
			value = old + "\n" + value
		}
		c[key] = value
	}
	return c
}

// forwardingChecks are the sshd settings that reach the host from
// outside the jail, whatever the login shell does.
var forwardingChecks = []struct {
	keyword, name, reach string
}{
	{"allowtcpforwarding", "AllowTcpForwarding", "opens TCP connections from the host's network"},
	{"allowstreamlocalforwarding", "AllowStreamLocalForwarding", "connects to the host's Unix sockets"},
	{"allowagentforwarding", "AllowAgentForwarding", "puts an agent socket on the host"},
	{"x11forwarding", "X11Forwarding", "puts an X11 socket on the host"},
	{"permittunnel", "PermitTunnel", "creates tun devices on the host"},
	{"permituserenvironment", "PermitUserEnvironment", "sets variables from ~/.ssh/environment for the programs sshd runs outside the jail"},
}

// sshdFindings returns the ways around jailsh that cfg leaves open for
// an account whose login shell is loginShell. Pure, so it is tested
// against sshd -T outputs.
func sshdFindings(cfg sshdConfig, loginShell string) []string {
	var out []string
	forwardingOff := cfg["disableforwarding"] == "yes"
	for _, c := range forwardingChecks {
		v, ok := cfg[c.keyword]
		if !ok || v == "no" {
			continue
		}
		if forwardingOff && c.keyword != "permituserenvironment" && c.keyword != "permittunnel" {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s: sshd %s, outside the jail; set %s no", c.name, v, c.reach, c.name))
	}
	if v := cfg["chrootdirectory"]; v != "" && v != "none" {
		out = append(out, fmt.Sprintf("ChrootDirectory %s: sshd chroots before it runs jailsh, which then looks for its policy and the root filesystem inside that chroot; remove it for jailed accounts", v))
	}
	jailedShell := filepath.Base(loginShell) == "jailsh"
	force := cfg["forcecommand"]
	switch {
	case force != "" && force != "none" && filepath.Base(strings.Fields(force)[0]) != "jailsh":
		out = append(out, fmt.Sprintf("ForceCommand %s: the forced command replaces the login shell; use ForceCommand jailsh or none", force))
	case force != "" && force != "none" && !jailedShell:
		out = append(out, fmt.Sprintf("ForceCommand %s with login shell %s: sshd runs the forced command through the login shell, which may read start-up files outside the jail (Debian's bash reads ~/.bashrc); make jailsh the login shell too", force, loginShell))
	}
	for _, sub := range strings.Split(cfg["subsystem"], "\n") {
		f := strings.Fields(sub)
		if len(f) >= 2 && f[1] == "internal-sftp" && (force == "" || force == "none") {
			out = append(out, fmt.Sprintf("Subsystem %s internal-sftp: sshd serves sftp itself, outside the jail; use /usr/lib/openssh/sftp-server, which runs through jailsh", f[0]))
		}
	}
	return out
}

// effectiveSSHDConfig runs `sshd -T` for a connection of user, as sshd
// would apply Match blocks to it.
func effectiveSSHDConfig(sshd, configFile, user string) (sshdConfig, error) {
	args := []string{"-T", "-C", "user=" + user + ",host=localhost,addr=127.0.0.1"}
	if configFile != "" {
		args = append(args, "-f", configFile)
	}
	out, err := exec.Command(sshd, args...).Output()
	if err != nil {
		var detail string
		if ee, ok := err.(*exec.ExitError); ok {
			detail = strings.TrimSpace(string(ee.Stderr))
		}
		return nil, fmt.Errorf("run %s -T for user %s: %v %s", sshd, user, err, detail)
	}
	return parseSSHDConfig(string(out)), nil
}
