// Package sysnum names the system calls of the machine's architecture, for
// the seccomp filter and the policy that configures it.
//
// The tables are plain arrays, laid out by the linker: a map would be
// built when the program starts, and every jailsh process would pay for
// it, for every architecture, as it did with the seccomp library jailsh
// used before.
package sysnum

import "sort"

//go:generate go run gen.go

type entry struct {
	name string
	nr   uint32
}

// Number returns the number of the system call name, such as "keyctl",
// on this machine's architecture.
func Number(name string) (uint32, bool) {
	i := sort.Search(len(table), func(i int) bool { return table[i].name >= name })
	if i < len(table) && table[i].name == name {
		return table[i].nr, true
	}
	return 0, false
}
