//go:build !386 && !amd64 && !arm && !arm64 && !loong64 && !ppc64le && !riscv64 && !s390x

package sysnum

// AuditArch is 0 on an architecture without a table: jailsh cannot build
// a seccomp filter there.
const AuditArch = 0

var table = [...]entry{}
