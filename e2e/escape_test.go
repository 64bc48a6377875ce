package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// escape is one attempt to get out of a jail, run as root inside it. The
// script prints ESCAPED if the attempt got out and TRIED once it ran to
// the end, so that an attempt that never ran fails too.
type escape struct {
	name   string // the attack, and where it was published
	script string
}

// TestEscapes tries, from inside a jail, the known ways out of container
// and sandbox runtimes. None may work.
func TestEscapes(t *testing.T) {
	secret := filepath.Join(env.base, "escape-target")
	if err := os.WriteFile(secret, []byte("host secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	host := exec.Command("sleep", "300")
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { host.Process.Kill(); host.Wait() }()
	// An abstract Unix socket of a host program: reachable from any
	// process in the host's network namespace.
	abstract, err := net.Listen("unix", "@jailsh-escape-test")
	if err != nil {
		t.Fatal(err)
	}
	defer abstract.Close()

	hostPID := fmt.Sprint(host.Process.Pid)
	perl := func(code string) string { return "perl -e '" + code + "'" }
	cases := []escape{
		{"chroot and climb out with .. (the classic chroot break-out, also in jailkit's FAQ)",
			perl(`mkdir "/tmp/e"; chroot "/tmp/e"; chdir ".." for 1..64; chroot "."; print "ESCAPED\n" if -e "` + secret + `"; print "TRIED\n"`)},
		{"pivot_root inside a new mount namespace to reach the old root (bubblewrap SECURITY.md)",
			`unshare -m sh -c 'mkdir -p /tmp/n/old && mount -t tmpfs t /tmp/n && mkdir /tmp/n/old && cd /tmp/n && pivot_root . old 2>/dev/null; test -e /old` + secret + ` && echo ESCAPED'; echo TRIED`},
		{"open the host root through /proc/1/root of the jail's init (runc CVE-2016-9962)",
			`ls /proc/1/root` + secret + ` 2>/dev/null && echo ESCAPED; echo TRIED`},
		{"use the init's working folder, /proc/1/cwd (runc CVE-2016-9962)",
			`ls /proc/1/cwd/ 2>/dev/null | grep -q . && echo ESCAPED; echo TRIED`},
		{"write to the jailsh binary through /proc/1/exe (runc CVE-2019-5736)",
			`(exec 3>>/proc/1/exe) 2>/dev/null && echo ESCAPED; echo TRIED`},
		{"reach a host folder through a descriptor the init holds (runc CVE-2024-21626)",
			`for f in /proc/1/fd/*; do readlink -e $f 2>/dev/null | grep -q '^/var\|^/home\|^/sys' && echo ESCAPED; done; echo TRIED`},
		{"ptrace the jail's init to act with its view (runc CVE-2016-9962)",
			perl(`syscall(101, 16, 1, 0, 0) == 0 and print "ESCAPED\n"; print "TRIED\n"`)},
		{"ptrace a host process by PID",
			perl(`syscall(101, 16, ` + hostPID + `, 0, 0) == 0 and print "ESCAPED\n"; print "TRIED\n"`)},
		{"signal a host process by PID",
			`kill -0 ` + hostPID + ` 2>/dev/null && echo ESCAPED; echo TRIED`},
		{"kill the jail's init to break out of the PID namespace",
			`kill -9 1 2>/dev/null; sleep 0.2; kill -0 ` + hostPID + ` 2>/dev/null && echo ESCAPED; echo TRIED`},
		{"unmount the root to reveal what is below (bubblewrap CVE-2020-5291 class)",
			`umount -l / 2>/dev/null && test -e ` + secret + ` && echo ESCAPED; echo TRIED`},
		{"remount the read-only root read-write",
			`mount -o remount,bind,rw / 2>/dev/null && echo ESCAPED; echo TRIED`},
		{"unmount /tmp to reach the root filesystem's own /tmp",
			`umount /tmp 2>/dev/null && echo ESCAPED; echo TRIED`},
		{"open_by_handle_at to reach host files by handle (the Shocker exploit, Docker 2014)",
			perl(`syscall(304, 0, 0, 0) == -1 and $!{EPERM} or print "ESCAPED\n"; print "TRIED\n"`)},
		{"mount cgroup v1 and set a release_agent (CVE-2022-0492)",
			`mkdir -p /tmp/cg && mount -t cgroup -o memory cgroup /tmp/cg 2>/dev/null && echo ESCAPED; echo TRIED`},
		{"write core_pattern to run a program on the host (container escape write-ups)",
			`echo '|/tmp/x' > /proc/sys/kernel/core_pattern 2>/dev/null && echo ESCAPED; echo TRIED`},
		{"create a block device node for the host's disk",
			`mknod /tmp/vda b 254 0 2>/dev/null && head -c1 /tmp/vda >/dev/null 2>&1 && echo ESCAPED; echo TRIED`},
		{"read the host's disk through a bound device node",
			`ls /dev | grep -qx 'vda\|sda\|nvme0n1\|mem\|kmem' && echo ESCAPED; echo TRIED`},
		{"create a nested user namespace for more kernel attack surface (bubblewrap --disable-userns)",
			`unshare -U true 2>/dev/null && echo ESCAPED; echo TRIED`},
		{"configure netfilter in a new network namespace (CVE-2022-1015 class)",
			`unshare -n sh -c 'ip link set lo up 2>/dev/null && echo ESCAPED'; echo TRIED`},
		{"read the host's kernel keyrings (CVE-2016-0728 class)",
			perl(`syscall(250, 0, -4, 0) >= 0 and print "ESCAPED\n"; print "TRIED\n"`)},
		{"load BPF programs (CVE-2021-3490 class)",
			perl(`syscall(321, 5, 0, 0) >= 0 and print "ESCAPED\n"; print "TRIED\n"`)},
		{"userfaultfd to win kernel races (CVE-2016-5195 exploit technique)",
			perl(`syscall(323, 0) >= 0 and print "ESCAPED\n"; print "TRIED\n"`)},
		{"io_uring (Google's 2023 kernel CTF findings)",
			perl(`syscall(425, 1, 0) >= 0 and print "ESCAPED\n"; print "TRIED\n"`)},
		{"32-bit system calls past a 64-bit filter (int 0x80 seccomp bypass; the filter's architecture check runs in the jail package's unit tests)",
			`test -r /proc/self/status && grep -q 'Seccomp:.2' /proc/self/status || echo ESCAPED; echo TRIED`},
		{"connect to the host's loopback services",
			fmt.Sprintf(`(echo > /dev/tcp/127.0.0.1/%d) 2>/dev/null && echo ESCAPED; echo TRIED`, env.sshPort)},
		{"connect to a host program's abstract Unix socket (firejail net=none advisories)",
			perl(`use Socket; socket(S, PF_UNIX, SOCK_STREAM, 0); connect(S, pack_sockaddr_un("\0jailsh-escape-test")) and print "ESCAPED\n"; print "TRIED\n"`)},
		{"open the host's controlling terminal through /dev/tty",
			`(exec 3<>/dev/tty) 2>/dev/null && echo ESCAPED; echo TRIED`},
		{"read the host's files through /sys",
			`ls /sys/fs/cgroup 2>/dev/null | grep -q . && echo ESCAPED; echo TRIED`},
		{"read the policy or write the jailsh binary by their host paths",
			`cat ` + env.policyDir + `/jailsh.toml 2>/dev/null && echo ESCAPED; (exec 3>>` + filepath.Join(env.bin, "jailsh") + `) 2>/dev/null && echo ESCAPED; echo TRIED`},
		{"change the jail's hostname to confuse host logs",
			`hostname escaped 2>/dev/null && echo ESCAPED; echo TRIED`},
		{"push input to the session's terminal with TIOCSTI and no terminal",
			perl(`my $c = "x"; ioctl(STDIN, 0x5412, $c) and print "ESCAPED\n"; print "TRIED\n"`)},
	}
	if len(cases) < 25 {
		t.Fatalf("the suite holds %d attempts; keep at least 25", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ssh(t, "jse-alice", "", c.script)
			if strings.Contains(r.stdout, "ESCAPED") {
				t.Errorf("escaped: %v", r)
			}
			if !strings.Contains(r.stdout, "TRIED") {
				t.Errorf("the attempt did not run to its end: %v", r)
			}
		})
	}
}

// TestNextLoginUnchanged writes the files through which a user could set
// up the next login: ~/.ssh/environment, ~/.ssh/rc, and ~/.bashrc, which
// Debian's bash reads when sshd starts it. The next login must still be
// jailed and get none of it.
func TestNextLoginUnchanged(t *testing.T) {
	marker := filepath.Join(env.base, "ran-outside")
	setup := strings.Join([]string{
		"mkdir -p ~/.ssh",
		"echo LD_PRELOAD=/tmp/evil.so > ~/.ssh/environment",
		"echo JSE_FROM_ENV_FILE=1 >> ~/.ssh/environment",
		"echo 'touch " + marker + "; hostname > ~/rc-ran-on' > ~/.ssh/rc",
		"echo 'touch " + marker + " 2>/dev/null; hostname > ~/bashrc-ran-on' >> ~/.bashrc",
	}, "; ")
	defer ssh(t, "jse-dave", "", "rm -f ~/.ssh/environment ~/.ssh/rc ~/rc-ran-on ~/bashrc-ran-on; sed -i '/ran-on/d' ~/.bashrc")
	if r := ssh(t, "jse-dave", "", setup); r.code != 0 {
		t.Fatalf("setup: %v", r)
	}
	r := ssh(t, "jse-dave", "", "hostname; env | grep -c '^LD_PRELOAD=\\|^JSE_FROM_ENV_FILE=' ; true")
	if !strings.HasPrefix(r.stdout, "dave-jail\n0\n") {
		t.Errorf("next login: %v; want the jail's hostname and none of the variables", r)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("a start-up file of the user ran outside the jail")
	}
	if data, err := os.ReadFile("/home/jse-dave/bashrc-ran-on"); err == nil && string(data) != "dave-jail\n" {
		t.Errorf("~/.bashrc ran on %q, want the jail", data)
	}
}
