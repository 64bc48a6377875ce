# Build settings that the binaries take at build time. POLICY_DIR is fixed
# in the login shell, so that nothing a user controls picks the policy.
POLICY_DIR  ?= /etc/jailsh
SYSLOG_ADDR ?=
PREFIX      ?= /usr/local
BIN         ?= bin

GO      ?= go
LDFLAGS := -s -w -X main.policyDir=$(POLICY_DIR) -X main.syslogAddr=$(SYSLOG_ADDR)
# Static binaries start faster than ones the dynamic loader has to link.
# TAGS=jailsh_trace builds the phase marks that make bench reads.
TAGS    ?=
GOBUILD := CGO_ENABLED=0 $(GO) build -trimpath -tags "$(TAGS)" -ldflags "$(LDFLAGS)"

.PHONY: all build demo test deps bench testroot install clean

all: build

# build.conf records the settings, one per line, so that install can
# rebuild with them and show what it installs.
build:
	$(GOBUILD) -o $(BIN)/ ./cmd/jailsh ./cmd/jailctl
	@printf 'POLICY_DIR=%s\nSYSLOG_ADDR=%s\nTAGS=%s\n' '$(POLICY_DIR)' '$(SYSLOG_ADDR)' '$(TAGS)' > $(BIN)/build.conf

# A jailed shell on the host's own /usr, with no setup; without a terminal
# it shows what the jail sees.
demo: build
	@if [ -t 0 ]; then $(BIN)/jailctl run; else \
	  $(BIN)/jailctl run -- /bin/sh -c 'echo "# id"; id; echo "# hostname"; hostname; echo "# ps aux"; ps aux; echo "# ls /"; ls /'; fi

# The tests need root: they create accounts and start sshd on 127.0.0.1.
# A short run of each fuzz target follows. It counts inputs rather than
# seconds, because a timed run on Go 1.26.8 failed here once with
# "context deadline exceeded" and no crashing input.
FUZZ_TARGETS := FuzzParseFile FuzzParseUserFile FuzzResolve
FUZZ_INPUTS  ?= 20000x

test: testroot
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...
	@for f in $(FUZZ_TARGETS); do \
	  echo "fuzz $$f ($(FUZZ_INPUTS))"; \
	  $(GO) test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(FUZZ_INPUTS) -fuzzminimizetime=5s ./policy || exit 1; \
	done

# Debian packages the tests use.
DEPS := openssh-server openssh-client debootstrap rsync git procps iproute2 util-linux tmux ca-certificates

deps:
	@[ "$$(id -u)" = 0 ] || { echo "make $@: apt-get needs root; run it as root, or with sudo" >&2; exit 1; }
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(DEPS)

# install takes the binaries as make build left them, with the settings
# they were built with. Sources, go.mod, go.sum or this Makefile newer than
# the binaries rebuild them with those settings (each line one argument, so
# that a value may hold spaces). Settings given to install itself rebuild
# them with those and the defaults. Without a rebuild, root's PATH needs no
# Go, as under sudo.
install:
	@if [ -f $(BIN)/build.conf ] && [ "$(origin POLICY_DIR)$(origin SYSLOG_ADDR)$(origin TAGS)" = filefilefile ]; then \
	  if [ -n "$$(find . \( -name '*.go' -o -name go.mod -o -name go.sum -o -name Makefile \) -newer $(BIN)/build.conf -print -quit)" ]; then \
	    xargs -d '\n' $(MAKE) --no-print-directory build < $(BIN)/build.conf; fi; \
	else $(MAKE) --no-print-directory build; fi
	@echo "installing binaries built with:"; sed 's/^/  /' $(BIN)/build.conf
	install -D -m 0755 $(BIN)/jailsh $(DESTDIR)$(PREFIX)/bin/jailsh
	install -D -m 0755 $(BIN)/jailctl $(DESTDIR)$(PREFIX)/sbin/jailctl

clean:
	rm -rf $(BIN)

# The debootstrap root filesystem the end-to-end tests log into. It is
# cached outside the clone and rebuilt only when the package list changes.
TESTROOT ?= /var/cache/jailsh-test/bookworm
TESTROOT_PACKAGES := procps,iproute2,openssh-client,openssh-sftp-server,rsync,git,less,perl-base
TESTROOT_MIRROR ?= http://deb.debian.org/debian

testroot:
	@if [ "$$(cat $(TESTROOT)/.jailsh-testroot 2>/dev/null)" = "$(TESTROOT_PACKAGES)" ]; then \
	  echo "testroot: $(TESTROOT) is up to date"; else \
	  rm -rf $(TESTROOT).tmp && mkdir -p $$(dirname $(TESTROOT)) && \
	  debootstrap --variant=minbase --include=$(TESTROOT_PACKAGES) bookworm $(TESTROOT).tmp $(TESTROOT_MIRROR) && \
	  echo "$(TESTROOT_PACKAGES)" > $(TESTROOT).tmp/.jailsh-testroot && \
	  rm -rf $(TESTROOT) && mv $(TESTROOT).tmp $(TESTROOT); fi

# Benchmarks of jailsh beside bubblewrap, unshare(1) and plain bash. They
# need root, and docs/benchmarks.md has a full run. bench/ builds its own
# jailsh with `make build`, because the policy folder and the syslog socket
# are fixed at build time, and creates and removes a temporary account
# (jsbench). Options go in BENCH_FLAGS, e.g. BENCH_FLAGS=-only=startup.
BENCH_FLAGS ?=

.PHONY: bench-deps

bench: build testroot
	$(GO) run ./bench -go '$(GO)' -rootfs '$(TESTROOT)' $(BENCH_FLAGS)

# Debian packages the benchmarks use besides those of `make deps`.
BENCH_DEPS := hyperfine bubblewrap util-linux bsdutils

bench-deps:
	@[ "$$(id -u)" = 0 ] || { echo "make $@: apt-get needs root; run it as root, or with sudo" >&2; exit 1; }
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(BENCH_DEPS)
