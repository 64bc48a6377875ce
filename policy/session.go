package policy

import (
	"fmt"
	"time"
)

// SessionMode is the choice between one jail per login and one jail
// shared by all of a user's logins.
type SessionMode string

const (
	// SessionPrivate gives every login a jail of its own; this is the
	// default.
	SessionPrivate SessionMode = "private"
	// SessionShared starts one jail for the user's first login; later
	// logins join it while it runs.
	SessionShared SessionMode = "shared"
)

// UnmarshalTOML implements toml.Unmarshaler.
func (m *SessionMode) UnmarshalTOML(value any) error {
	s, err := stringValue(value, `session = "shared"`)
	if err != nil {
		return err
	}
	switch v := SessionMode(s); v {
	case SessionPrivate, SessionShared:
		*m = v
		return nil
	}
	return fmt.Errorf("invalid session %q: use \"private\" or \"shared\"", s)
}

// MaxLinger bounds linger: a jail with no session left should not hold
// its processes and memory for days.
const MaxLinger = 24 * time.Hour

// Linger is how long a shared jail outlives its last session, written as
// a Go duration such as "90s" or "10m".
type Linger time.Duration

// UnmarshalTOML implements toml.Unmarshaler.
func (l *Linger) UnmarshalTOML(value any) error {
	s, err := stringValue(value, `linger = "10m"`)
	if err != nil {
		return err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid linger %q: write a duration from \"0s\" to \"24h\", such as \"30s\", \"10m\" or \"1h\"", s)
	}
	if d < 0 || d > MaxLinger {
		return fmt.Errorf("invalid linger %q: must be from \"0s\" to \"24h\"", s)
	}
	*l = Linger(d)
	return nil
}

// String returns l as a duration, such as "10m0s".
func (l Linger) String() string { return time.Duration(l).String() }
