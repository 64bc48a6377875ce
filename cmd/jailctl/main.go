// Command jailctl is the admin's tool for jailsh: it checks the policy and
// runs jails. See jailctl(8).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/jailsh/jailsh/jail"
)

// Set at build time, as for jailsh.
var (
	policyDir  = "/etc/jailsh"
	syslogAddr = ""
)

const usage = `usage: jailctl COMMAND [OPTIONS]

Commands:
  check [--dir DIR] [--user NAME]   validate the policy, or print one user's effective policy
  run [--policy FILE] [-- CMD...]   run a jail as the calling user
  list [--json]                     list every running jail (root)
  enter USER|ID [-- CMD...]         run a shell or CMD in a running jail (root)
  stop USER|ID                      end a jail and every process in it (root)
`

func main() {
	if jail.IsInit() {
		jail.RunInit()
	}
	if jail.IsZygote() {
		jail.RunZygote()
	}
	if err := jail.CloseInheritedFDs(); err != nil {
		fmt.Fprintf(os.Stderr, "jailctl: %v\n", err)
		os.Exit(1)
	}
	os.Exit(dispatch(os.Args[1:]))
}

func dispatch(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	switch args[0] {
	case "check":
		return runCheck(args[1:])
	case "run":
		return runRun(args[1:])
	case "list":
		return runList(args[1:])
	case "stop":
		return runStop(args[1:])
	case "enter":
		return runEnter(args[1:])
	case "help", "-h", "--help":
		fmt.Print(usage)
		return 0
	}
	fmt.Fprintf(os.Stderr, "jailctl: unknown command %q\n%s", args[0], usage)
	return 2
}

// newFlagSet returns a flag set for the command name that prints
// nothing itself: parseStatus reports its errors.
func newFlagSet(name string) *flag.FlagSet {
	fset := flag.NewFlagSet(name, flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	return fset
}

// parseStatus reports a flag parsing error of fset and returns the exit
// status: 0 for -h and --help, which print the flags on stdout, and 2 for
// a bad flag, which gets one line on stderr.
func parseStatus(fset *flag.FlagSet, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Printf("Usage of %s:\n", fset.Name())
		fset.SetOutput(os.Stdout)
		fset.PrintDefaults()
		return 0
	}
	fmt.Fprintf(os.Stderr, "%s: %v; see %s -h\n", fset.Name(), err, fset.Name())
	return 2
}
