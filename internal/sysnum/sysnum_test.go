package sysnum

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestNumber(t *testing.T) {
	for name, want := range map[string]uint32{
		"read":           unix.SYS_READ,
		"keyctl":         unix.SYS_KEYCTL,
		"clone3":         unix.SYS_CLONE3,
		"io_uring_setup": unix.SYS_IO_URING_SETUP,
	} {
		if got, ok := Number(name); !ok || got != want {
			t.Errorf("Number(%q) = %d, %t; want %d, true", name, got, ok, want)
		}
	}
	for _, name := range []string{"", "READ", "no_such_call", "zzz"} {
		if _, ok := Number(name); ok {
			t.Errorf("Number(%q) found a number", name)
		}
	}
}

func TestTableSorted(t *testing.T) {
	for i := 1; i < len(table); i++ {
		if table[i-1].name >= table[i].name {
			t.Fatalf("table not sorted at %q, %q", table[i-1].name, table[i].name)
		}
	}
}
