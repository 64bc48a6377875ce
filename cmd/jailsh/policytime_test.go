package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestPolicyTimeNewest(t *testing.T) {
	dir := t.TempDir()
	old, newer := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	if err := os.WriteFile(old, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The pause makes the two change times differ, whatever the file
	// system's timestamp grain.
	time.Sleep(20 * time.Millisecond)
	if err := os.WriteFile(newer, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(newer)
	if err != nil {
		t.Fatal(err)
	}
	want := fi.Sys().(*syscall.Stat_t).Ctim.Nano()

	got := policyTime([]string{old, newer, filepath.Join(dir, "missing")})
	if got != want {
		t.Errorf("policyTime = %d, want %d, the change time of the newer file", got, want)
	}
	if got := policyTime([]string{filepath.Join(dir, "missing")}); got != 0 {
		t.Errorf("policyTime of a missing file = %d, want 0", got)
	}
}
