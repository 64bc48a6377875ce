package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseInvocation(t *testing.T) {
	tests := []struct {
		name     string
		argv     []string
		original *string // SSH_ORIGINAL_COMMAND, or nil when unset
		want     invocation
	}{
		{"login from login(1)", []string{"-jailsh"}, nil, invocation{mode: modeLogin, login: true}},
		{"login from full path", []string{"-/usr/local/bin/jailsh"}, nil, invocation{mode: modeLogin, login: true}},
		{"plain argv starts a login shell", []string{"jailsh"}, nil, invocation{mode: modeLogin, login: true}},
		{"su -l style", []string{"jailsh", "-l"}, nil, invocation{mode: modeLogin, login: true}},
		{"long login option", []string{"jailsh", "--login"}, nil, invocation{mode: modeLogin, login: true}},
		{"interactive option", []string{"jailsh", "-i"}, nil, invocation{mode: modeLogin, login: true}},
		{"command", []string{"jailsh", "-c", "ls -la"}, nil, invocation{mode: modeCommand, hasCommand: true, command: "ls -la"}},
		{"command with login", []string{"-jailsh", "-c", "ls"}, nil, invocation{mode: modeCommand, login: true, hasCommand: true, command: "ls"}},
		{"login option then command", []string{"jailsh", "-l", "-c", "id"}, nil, invocation{mode: modeCommand, login: true, hasCommand: true, command: "id"}},
		{"empty command", []string{"jailsh", "-c", ""}, nil, invocation{mode: modeCommand, hasCommand: true}},
		{"empty command under ForceCommand", []string{"jailsh", "-c", ""}, ptr("ls"), invocation{mode: modeCommand, hasCommand: true}},
		{"jailsh as command without original", []string{"jailsh", "-c", "jailsh"}, nil, invocation{mode: modeLogin, login: true}},

		// ForceCommand: sshd sets SSH_ORIGINAL_COMMAND to the command the user requested.
		{"forced with command", []string{"jailsh"}, ptr("uptime"), invocation{mode: modeForced, hasCommand: true, command: "uptime"}},
		{"forced login argv", []string{"-jailsh"}, ptr("uptime"), invocation{mode: modeForced, login: true, hasCommand: true, command: "uptime"}},
		{"forced empty is login shell", []string{"jailsh"}, ptr(""), invocation{mode: modeForced, login: true}},
		{"forced through -c jailsh", []string{"jailsh", "-c", "jailsh"}, ptr("git-upload-pack 'repo'"), invocation{mode: modeForced, hasCommand: true, command: "git-upload-pack 'repo'"}},
		{"forced through -c full path", []string{"jailsh", "-c", "/usr/local/bin/jailsh"}, ptr("ls"), invocation{mode: modeForced, hasCommand: true, command: "ls"}},
		{"forced through -c with spaces", []string{"jailsh", "-c", " jailsh "}, ptr("ls"), invocation{mode: modeForced, hasCommand: true, command: "ls"}},
		{"forced through -c empty original", []string{"jailsh", "-c", "jailsh"}, ptr(""), invocation{mode: modeForced, login: true}},
		{"other forced command kept", []string{"jailsh", "-c", "/usr/lib/openssh/sftp-server"}, ptr("ls"), invocation{mode: modeCommand, hasCommand: true, command: "/usr/lib/openssh/sftp-server"}},
		{"jailsh with arguments is a command", []string{"jailsh", "-c", "jailsh -x"}, ptr("ls"), invocation{mode: modeCommand, hasCommand: true, command: "jailsh -x"}},
		{"jailsh in a pipeline is a command", []string{"jailsh", "-c", "jailsh;id"}, ptr("ls"), invocation{mode: modeCommand, hasCommand: true, command: "jailsh;id"}},
		{"other program named like jailsh", []string{"jailsh", "-c", "notjailsh"}, ptr("ls"), invocation{mode: modeCommand, hasCommand: true, command: "notjailsh"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			original, have := "", false
			if tc.original != nil {
				original, have = *tc.original, true
			}
			got, err := parseInvocation(tc.argv, original, have)
			if err != nil {
				t.Fatalf("parseInvocation(%q): %v", tc.argv, err)
			}
			if got.mode != tc.want.mode {
				t.Errorf("mode = %q, want %q", got.mode, tc.want.mode)
			}
			if got.login != tc.want.login {
				t.Errorf("login = %v, want %v", got.login, tc.want.login)
			}
			if got.hasCommand != tc.want.hasCommand {
				t.Errorf("hasCommand = %v, want %v", got.hasCommand, tc.want.hasCommand)
			}
			if got.command != tc.want.command {
				t.Errorf("command = %q, want %q", got.command, tc.want.command)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestParseInvocationErrors(t *testing.T) {
	tests := []struct {
		name     string
		argv     []string
		original *string
		want     string // part of the error
	}{
		{"-c without command", []string{"jailsh", "-c"}, nil, "option -c needs a command"},
		{"-c without command under ForceCommand", []string{"jailsh", "-c"}, ptr("ls"), "option -c needs a command"},
		{"arguments after -c", []string{"jailsh", "-c", "ls", "x"}, nil, `unexpected arguments after -c COMMAND: ["x"]`},
		{"two arguments after -c", []string{"jailsh", "-c", "echo $1", "sh", "hi"}, nil, `["sh" "hi"]`},
		{"unknown option", []string{"jailsh", "-x"}, nil, `unsupported argument "-x"`},
		{"unknown long option", []string{"-jailsh", "--norc"}, nil, `unsupported argument "--norc"`},
		{"script file", []string{"jailsh", "script.sh"}, nil, `unsupported argument "script.sh"`},
		{"option after -l", []string{"jailsh", "-l", "-s"}, nil, `unsupported argument "-s"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			original, have := "", false
			if tc.original != nil {
				original, have = *tc.original, true
			}
			_, err := parseInvocation(tc.argv, original, have)
			if err == nil {
				t.Fatalf("parseInvocation(%q) error = nil, want one containing %q", tc.argv, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// The mode is set before the error, so that the refusal is audited with
// the command the user requested.
func TestParseInvocationErrorKeepsCommand(t *testing.T) {
	inv, err := parseInvocation([]string{"jailsh", "-c", "ls", "x"}, "", false)
	if err == nil {
		t.Fatal("error = nil, want one")
	}
	if inv.mode != modeCommand {
		t.Errorf("mode = %q, want %q", inv.mode, modeCommand)
	}
	if !inv.hasCommand {
		t.Error("hasCommand = false, want true")
	}
	if inv.command != "ls" {
		t.Errorf("command = %q, want ls", inv.command)
	}
}

func TestShellArgv(t *testing.T) {
	tests := []struct {
		name  string
		inv   invocation
		shell string
		want  []string
	}{
		{"login shell", invocation{mode: modeLogin, login: true}, "/bin/bash", []string{"-bash"}},
		{"interactive shell", invocation{mode: modeLogin}, "/bin/bash", []string{"/bin/bash"}},
		{"command", invocation{mode: modeCommand, hasCommand: true, command: "ls -la"}, "/bin/bash", []string{"/bin/bash", "-c", "ls -la"}},
		{"command from a login argv", invocation{mode: modeCommand, login: true, hasCommand: true, command: "id"}, "/bin/zsh", []string{"/bin/zsh", "-c", "id"}},
		{"empty command", invocation{mode: modeCommand, hasCommand: true}, "/bin/bash", []string{"/bin/bash", "-c", ""}},
		{"forced command", invocation{mode: modeForced, hasCommand: true, command: "uptime"}, "/bin/sh", []string{"/bin/sh", "-c", "uptime"}},
		{"forced empty", invocation{mode: modeForced, login: true}, "/usr/bin/fish", []string{"-fish"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.inv.shellArgv(tc.shell); !slices.Equal(got, tc.want) {
				t.Errorf("shellArgv(%q) = %q, want %q", tc.shell, got, tc.want)
			}
		})
	}
}

// Each argv goes through parseInvocation and shellArgv as main does.
func TestInvocationToShellArgv(t *testing.T) {
	tests := []struct {
		name     string
		argv     []string
		original *string
		want     []string
	}{
		{"ssh login", []string{"-jailsh"}, nil, []string{"-bash"}},
		{"ssh command", []string{"jailsh", "-c", "make test"}, nil, []string{"/bin/bash", "-c", "make test"}},
		{"ForceCommand with command", []string{"jailsh", "-c", "jailsh"}, ptr("rsync --server ."), []string{"/bin/bash", "-c", "rsync --server ."}},
		{"ForceCommand without command", []string{"jailsh", "-c", "jailsh"}, ptr(""), []string{"-bash"}},
		{"empty command", []string{"jailsh", "-c", ""}, nil, []string{"/bin/bash", "-c", ""}},
		{"empty command from a login argv", []string{"-jailsh", "-c", ""}, nil, []string{"/bin/bash", "-c", ""}},
		{"ForceCommand through another shell, no client command", []string{"jailsh"}, nil, []string{"-bash"}},
		{"ForceCommand as login shell, no client command", []string{"jailsh", "-c", "jailsh"}, nil, []string{"-bash"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			original, have := "", false
			if tc.original != nil {
				original, have = *tc.original, true
			}
			inv, err := parseInvocation(tc.argv, original, have)
			if err != nil {
				t.Fatalf("parseInvocation(%q): %v", tc.argv, err)
			}
			if got := inv.shellArgv("/bin/bash"); !slices.Equal(got, tc.want) {
				t.Errorf("shellArgv = %q, want %q", got, tc.want)
			}
		})
	}
}

// A program may exec jailsh with an empty argv; that must be an error,
// not a panic.
func TestParseInvocationEmptyArgv(t *testing.T) {
	for _, argv := range [][]string{nil, {}} {
		inv, err := parseInvocation(argv, "ls", true)
		if err == nil {
			t.Errorf("parseInvocation(%q) = %+v, want an error", argv, inv)
			continue
		}
		if !strings.Contains(err.Error(), "argv[0]") {
			t.Errorf("error %q does not name argv[0]", err)
		}
	}
}
