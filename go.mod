module github.com/jailsh/jailsh

go 1.26.8

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/hashicorp/go-syslog v1.0.1
	golang.org/x/sys v0.50.0
)

require (
	golang.org/x/net v0.41.0
	golang.org/x/term v0.48.0
)
