package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Modes of a session, as audited.
const (
	modeLogin   = "login"   // an interactive shell
	modeCommand = "command" // jailsh -c CMD, as sshd runs `ssh host CMD`
	modeForced  = "forced"  // sshd's ForceCommand, with SSH_ORIGINAL_COMMAND
)

// invocation is the mode and command that jailsh was called with.
type invocation struct {
	mode       string
	login      bool   // start the shell as a login shell
	hasCommand bool   // run command with SHELL -c, even when it is empty
	command    string // for modeCommand and modeForced
}

// parseInvocation interprets argv as login(1), su(1) and sshd call a login
// shell: "-jailsh" for a login, "jailsh -c CMD" for a command. Under
// ForceCommand, sshd runs the forced command "jailsh" through the user's
// shell and puts what the user asked for in SSH_ORIGINAL_COMMAND.
func parseInvocation(argv []string, originalCommand string, haveOriginal bool) (invocation, error) {
	inv := invocation{mode: modeLogin}
	if len(argv) == 0 {
		return inv, errors.New("missing argv[0]: jailsh was started with an empty argument list; pass the program name as argv[0]")
	}
	inv.login = strings.HasPrefix(argv[0], "-")
	if err := inv.parseOptions(argv[1:]); err != nil {
		return inv, err
	}
	// With jailsh as both the login shell and the ForceCommand, sshd runs
	// "jailsh -c jailsh", which requests no command of its own.
	if inv.hasCommand && isJailshCommand(inv.command) {
		inv.mode, inv.hasCommand, inv.command = modeLogin, false, ""
	}
	if !inv.hasCommand && haveOriginal {
		inv.mode = modeForced
		inv.hasCommand, inv.command = originalCommand != "", originalCommand
	}
	// sshd starts the shell of an interactive session as a login shell.
	// Under ForceCommand it runs "SHELL -c jailsh" instead, so jailsh gets
	// "jailsh" or "jailsh -c jailsh" and no SSH_ORIGINAL_COMMAND when the
	// client sent no command. Every interactive session therefore gets a
	// login shell.
	if !inv.hasCommand {
		inv.login = true
	}
	return inv, nil
}

// parseOptions reads the options after argv[0] into inv.
func (inv *invocation) parseOptions(args []string) error {
	for len(args) > 0 {
		switch args[0] {
		case "-l", "--login":
			inv.login = true
			args = args[1:]
		case "-i":
			args = args[1:]
		case "-c":
			if len(args) < 2 {
				return fmt.Errorf("option -c needs a command")
			}
			inv.mode, inv.hasCommand, inv.command = modeCommand, true, args[1]
			// bash would take further arguments as $0, $1, ...; sshd and su
			// never pass any, so they are an error rather than guessed at.
			if len(args) > 2 {
				return fmt.Errorf("unexpected arguments after -c COMMAND: %q", args[2:])
			}
			args = nil
		default:
			return fmt.Errorf("unsupported argument %q: jailsh takes only -c COMMAND, -l and -i", args[0])
		}
	}
	return nil
}

func isJailshCommand(cmd string) bool {
	cmd = strings.TrimSpace(cmd)
	return !strings.ContainsAny(cmd, " \t\n;&|<>$`'\"") && filepath.Base(cmd) == "jailsh"
}

// shellArgv returns argv for the jail's shell.
func (inv invocation) shellArgv(shell string) []string {
	if inv.hasCommand {
		return []string{shell, "-c", inv.command}
	}
	if inv.login {
		return []string{"-" + filepath.Base(shell)}
	}
	return []string{shell}
}
