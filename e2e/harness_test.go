// Package e2e runs jailsh the way admins and users meet it: real accounts
// with jailsh as their login shell, a real sshd on 127.0.0.1, a syslog
// socket, and a debootstrap root filesystem. It needs root, to create the
// accounts and start sshd; without root it fails instead of skipping.
package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// env is the world TestMain builds for every test.
var env struct {
	base      string // root-owned folder holding everything below
	bin       string // jailsh and jailctl, built for this folder
	policyDir string
	rootfs    string
	key       string // the ssh client's private key
	sshPort   int
	sshd      *exec.Cmd
	log       *syslogSink
}

// Test accounts. Each one's policy entry is written by writePolicy.
var accounts = []string{"jse-alice", "jse-bob", "jse-carol", "jse-broken", "jse-noroot", "jse-dave", "jse-erin", "jse-frank", "jse-gina"}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if os.Getuid() != 0 {
		fmt.Fprintln(os.Stderr, "e2e: these tests need root, to create accounts and start sshd")
		return 1
	}
	err := setup()
	defer teardown()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: setup: %v\n", err)
		return 1
	}
	return m.Run()
}

func setup() error {
	env.rootfs = os.Getenv("JAILSH_TEST_ROOTFS")
	if env.rootfs == "" {
		env.rootfs = "/var/cache/jailsh-test/bookworm"
	}
	for _, f := range []string{"bin/bash", "usr/bin/rsync", "usr/lib/openssh/sftp-server", "usr/bin/ps", "usr/bin/perl", "usr/bin/git"} {
		if _, err := os.Stat(filepath.Join(env.rootfs, f)); err != nil {
			return fmt.Errorf("root filesystem %s lacks %s; build it with `make testroot`", env.rootfs, f)
		}
	}

	// The policy folder and everything above it must be root-owned and
	// not writable by others, so the tests work under /var/lib, not /tmp.
	base, err := os.MkdirTemp("/var/lib", "jailsh-e2e-")
	if err != nil {
		return err
	}
	env.base = base
	env.bin = filepath.Join(base, "bin")
	env.policyDir = filepath.Join(base, "policy")
	for _, d := range []string{base, env.bin, env.policyDir, filepath.Join(env.policyDir, "users.d")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}

	env.log, err = listenSyslog(filepath.Join(base, "log.sock"))
	if err != nil {
		return err
	}
	if err := build(); err != nil {
		return err
	}
	if err := writePolicy(); err != nil {
		return err
	}
	if err := createAccounts(); err != nil {
		return err
	}
	return startSSHD()
}

func teardown() {
	if env.sshd != nil && env.sshd.Process != nil {
		_ = env.sshd.Process.Kill()
		_ = env.sshd.Wait()
	}
	for _, a := range accounts {
		// Jailed processes of a failed test must not keep the account busy.
		_ = exec.Command("pkill", "-KILL", "-u", a).Run()
		_ = exec.Command("userdel", "-r", a).Run()
	}
	if env.log != nil {
		env.log.close()
	}
	if env.base != "" {
		os.RemoveAll(env.base)
	}
}

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Dir(wd)
}

func build() error {
	ldflags := fmt.Sprintf("-X main.policyDir=%s -X main.syslogAddr=%s", env.policyDir, env.log.path)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", env.bin+"/", "./cmd/jailsh", "./cmd/jailctl")
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	return nil
}

// mainPolicy is the test policy; %s is the root filesystem.
const mainPolicy = `
[defaults]
root = %q
hostname = "jail-default"

[users.jse-alice]
hostname = "alice-jail"

[users.jse-bob]
hostname = "bob-jail"
network = "host"

[users.jse-dave]
hostname = "dave-jail"

[users.jse-erin]
hostname = "erin-jail"
session = "shared"

[users.jse-frank]
hostname = "frank-jail"
session = "shared"
linger = "2s"
`

func writePolicy() error {
	main := fmt.Sprintf(mainPolicy, env.rootfs)
	files := map[string]string{
		"jailsh.toml":             main,
		"users.d/jse-carol.toml":  "hostname = \"carol-jail\"\n",
		"users.d/jse-broken.toml": "hostname = \"broken\"\nnetwrok = \"none\"\n",
		"users.d/jse-noroot.toml": "root = \"/srv/no/such/root\"\n",
		// Shared, with a mount whose source is missing: the jail's init
		// fails while the first login starts it.
		"users.d/jse-gina.toml": "session = \"shared\"\n[[mounts]]\nsource = \"/srv/no/such/source\"\ntarget = \"/data\"\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(env.policyDir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func createAccounts() error {
	keyPath := filepath.Join(env.base, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyPath).CombinedOutput(); err != nil {
		return fmt.Errorf("ssh-keygen: %v: %s", err, out)
	}
	env.key = keyPath
	pub, err := os.ReadFile(keyPath + ".pub")
	if err != nil {
		return err
	}
	for _, a := range accounts {
		_ = exec.Command("pkill", "-KILL", "-u", a).Run()
		_ = exec.Command("userdel", "-r", a).Run()
		home := "/home/" + a
		if out, err := exec.Command("useradd", "-m", "-d", home, "-U", "-s", filepath.Join(env.bin, "jailsh"), a).CombinedOutput(); err != nil {
			return fmt.Errorf("useradd %s: %v: %s", a, err, out)
		}
		// "*" instead of useradd's "!": no password, but not a locked
		// account, which sshd without PAM would turn away.
		if out, err := exec.Command("usermod", "-p", "*", a).CombinedOutput(); err != nil {
			return fmt.Errorf("usermod %s: %v: %s", a, err, out)
		}
		u := lookup(a)
		sshDir := filepath.Join(home, ".ssh")
		if err := os.MkdirAll(sshDir, 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(sshDir, "authorized_keys"), pub, 0o600); err != nil {
			return err
		}
		for _, p := range []string{sshDir, filepath.Join(sshDir, "authorized_keys")} {
			if err := os.Chown(p, u.uid, u.gid); err != nil {
				return err
			}
		}
	}
	return nil
}

type account struct{ uid, gid int }

func lookup(name string) account {
	out, err := exec.Command("id", "-u", name).Output()
	if err != nil {
		panic(fmt.Sprintf("id -u %s: %v", name, err))
	}
	uid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	out, _ = exec.Command("id", "-g", name).Output()
	gid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return account{uid, gid}
}

const sshdConfig = `Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
AllowUsers jse-*
MaxStartups 100
PermitUserRC no
PermitUserEnvironment no
AllowTcpForwarding no
X11Forwarding no
AllowAgentForwarding no
AcceptEnv LANG LC_* JSE_*
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel VERBOSE

Match User jse-carol
	ForceCommand jailsh
`

func startSSHD() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	env.sshPort = l.Addr().(*net.TCPAddr).Port
	l.Close()

	hostKey := filepath.Join(env.base, "ssh_host_ed25519_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		return fmt.Errorf("ssh-keygen: %v: %s", err, out)
	}
	conf := filepath.Join(env.base, "sshd_config")
	text := fmt.Sprintf(sshdConfig, env.sshPort, hostKey, filepath.Join(env.base, "sshd.pid"))
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return err
	}
	// sshd's privilege separation needs this folder; Debian's service
	// creates it at boot, which a test machine without systemd lacks.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return err
	}
	env.sshd = exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", conf)
	env.sshd.Stderr, err = os.Create(filepath.Join(env.base, "sshd.log"))
	if err != nil {
		return err
	}
	// ForceCommand "jailsh" is found through PATH.
	env.sshd.Env = []string{"PATH=" + env.bin + ":/usr/bin:/bin:/usr/sbin:/sbin"}
	if err := env.sshd.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", env.sshPort))
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(env.base, "sshd.log"))
	return fmt.Errorf("sshd did not listen on 127.0.0.1:%d within 10s: %s", env.sshPort, log)
}

// result is what one command run gives back.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
}

// sshArgs returns the client options that reach the test sshd as user.
func sshArgs(user string) []string {
	return []string{"-F", "/dev/null", "-i", env.key, "-p", strconv.Itoa(env.sshPort),
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
		"-l", user}
}

// ssh runs a command as user through the test sshd, with stdin as input.
func ssh(t *testing.T, user, stdin string, args ...string) result {
	t.Helper()
	all := append(sshArgs(user), "127.0.0.1")
	return run(t, stdin, "ssh", append(all, args...)...)
}

// run runs a host command with stdin as input and returns its result.
func run(t *testing.T, stdin, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	return capture(t, cmd)
}

// capture runs cmd with a time limit of 60 seconds and returns its output
// and exit status. A command that cannot start fails the test.
func capture(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run %s: %v", cmd.Path, err)
	}
	return r
}

// jailsh runs the test's jailsh binary directly as user, the way login or
// su would start a login shell, with argv0 and an environment of the
// test's choosing.
func jailsh(t *testing.T, user string, environ []string, argv0 string, args ...string) result {
	t.Helper()
	cmd := exec.Command(filepath.Join(env.bin, "jailsh"), args...)
	cmd.Args[0] = argv0
	cmd.Env = environ
	cmd.Dir = "/"
	cmd.SysProcAttr = credential(lookup(user))
	return capture(t, cmd)
}

// syslogSink collects the datagrams jailsh sends to its syslog socket.
type syslogSink struct {
	path string
	conn *net.UnixConn
	mu   sync.Mutex
	msgs []string
}

func listenSyslog(path string) (*syslogSink, error) {
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	// Every test account must be able to send to it.
	if err := os.Chmod(path, 0o666); err != nil {
		return nil, err
	}
	s := &syslogSink{path: path, conn: conn}
	go func() {
		buf := make([]byte, 64*1024)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, string(buf[:n]))
			s.mu.Unlock()
		}
	}()
	return s, nil
}

func (s *syslogSink) close() { s.conn.Close() }

// wait returns the first message that contains every one of parts, waiting
// up to five seconds for it.
func (s *syslogSink) wait(t *testing.T, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		for _, m := range s.msgs {
			if containsAll(m, parts) {
				s.mu.Unlock()
				return m
			}
		}
		n := len(s.msgs)
		s.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no syslog message with %q among %d messages", parts, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
