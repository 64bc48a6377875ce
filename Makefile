# Build settings that the binaries take at build time. POLICY_DIR is fixed
# in the login shell, so that nothing a user controls picks the policy.
POLICY_DIR  ?= /etc/jailsh
SYSLOG_ADDR ?=
PREFIX      ?= /usr/local
BIN         ?= bin

GO      ?= go
LDFLAGS := -s -w -X main.policyDir=$(POLICY_DIR) -X main.syslogAddr=$(SYSLOG_ADDR)
# Static binaries start faster than ones the dynamic loader has to link.
GOBUILD := CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)"

.PHONY: all build demo test unit e2e bench testroot install clean

all: build

build:
	$(GOBUILD) -o $(BIN)/ ./cmd/jailsh ./cmd/jailctl

# A jailed shell on the host's own /usr, with no setup; without a terminal
# it shows what the jail sees.
demo: build
	@if [ -t 0 ]; then $(BIN)/jailctl run; else \
	  $(BIN)/jailctl run -- /bin/sh -c 'echo "# id"; id; echo "# hostname"; hostname; echo "# ps aux"; ps aux; echo "# ls /"; ls /'; fi

test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

install: build
	install -D -m 0755 $(BIN)/jailsh $(DESTDIR)$(PREFIX)/bin/jailsh
	install -D -m 0755 $(BIN)/jailctl $(DESTDIR)$(PREFIX)/sbin/jailctl

clean:
	rm -rf $(BIN)
