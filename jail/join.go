package jail

import (
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"sort"
)

// A jail's init listens on a Unix socket of type SOCK_SEQPACKET, one
// message per request, through which sessions join the jail and jailctl
// requests its status. The socket lies in a tmpfs that is mounted
// nowhere: the init's working folder. It is reached only through
// /proc/PID/cwd of the init, which the kernel opens to the jail's owner
// and to root on the host, and to nothing inside the jail, since no
// process there holds CAP_SYS_PTRACE over the init's user namespace.

// joinSocket is the socket's name in the init's working folder.
const joinSocket = "join"

// maxMessage bounds one message on the socket: a command line and an
// environment fit, a runaway client does not.
const maxMessage = 256 << 10

// Requests, the Op of a joinRequest.
const (
	opStatus  = "status"  // the jail's status
	opSession = "session" // start a session in the jail
)

// joinRequest is the first and only message a client sends before the
// session's own messages. With opSession and no TTY, the session's stdin,
// stdout and stderr come with it as descriptors.
type joinRequest struct {
	Op string `json:"op"`
	// Key, when set, must equal the jail's for opSession: a login joins
	// only a jail built from the policy it would get itself. With
	// opStatus, a different key and a newer PolicyTime supersede the jail
	// (server.supersede).
	Key        string   `json:"key,omitempty"`
	PolicyTime int64    `json:"policy_time,omitempty"`
	Path       string   `json:"path,omitempty"` // empty: the jail's shell
	Argv       []string `json:"argv,omitempty"`
	Env        []string `json:"env,omitempty"` // nil: the environment of the jail's first program
	Dir        string   `json:"dir,omitempty"`
	TTY        *WinSize `json:"tty,omitempty"`
}

// Jail modes, in JailStatus.Mode.
const (
	ModePrivate = "private"
	ModeShared  = "shared"
)

// Jail states, in JailStatus.State.
const (
	stateStarting = "starting" // a shared jail whose first login still decides whether to keep it
	stateReady    = "ready"
	stateClosing  = "closing" // ending; it takes no session
)

// JailStatus is the status report of a jail's init.
type JailStatus struct {
	Mode     string `json:"mode"`
	State    string `json:"state"`
	Key      string `json:"key"`
	Sessions int    `json:"sessions"`
}

// sessionMessage is one message on a session's connection. The jail sends
// the program's PID, or the error that stopped it, and at the end its exit
// code. The client sends signals for the program.
type sessionMessage struct {
	PID    int    `json:"pid,omitempty"`
	Error  string `json:"error,omitempty"`
	Signal int    `json:"signal,omitempty"`
	Exit   *int   `json:"exit,omitempty"`
}

// JailKey returns a digest of everything in s that shapes the jail, not
// the program in it: two logins with equal keys get the same jail. The
// specs come from the admin's policy, not from an adversary, so a 128-bit
// FNV hash does, and it spares every jailsh process the start-up cost of
// the crypto packages.
func JailKey(s *Spec) string {
	c := *s
	c.Path, c.Argv, c.Env, c.Dir, c.TTY, c.HostPID, c.PolicyTime = "", nil, nil, "", nil, 0, 0
	data, _ := json.Marshal(&c)
	h := fnv.New128a()
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// candidate is a process that may be the init of one of the user's jails,
// found by a login that looks for its shared jail.
type candidate struct {
	PID       int
	StartTime uint64 // clock ticks after boot
	// Status is nil when the init did not reply: it is still building
	// the jail, or it is not an init at all.
	Status *JailStatus
}

// older orders candidates by start time, then by PID.
func (c candidate) older(d candidate) bool {
	if c.StartTime != d.StartTime {
		return c.StartTime < d.StartTime
	}
	return c.PID < d.PID
}

// Choices of a login that looks for its shared jail.
type choice int

const (
	choiceJoin  choice = iota // join the chosen candidate
	choiceStart               // no jail to join: start one
	choiceLead                // keep the jail this login started, and join it
	choiceWait                // an older jail may still become the shared one
)

// chooseJail decides what a login of a shared user does, from the
// candidates it found. mine is the PID of the jail the login started,
// or 0. It returns the candidate to join with choiceJoin.
//
// Logins that start at once each start a jail, and the oldest of them is
// kept. A login keeps its own jail only when no older jail with the same
// key is alive and undecided. It looks only once the clock has moved a
// tick past its own jail's start, so every older jail is already in /proc.
// Every other login joins the kept jail once it is ready.
func chooseJail(cands []candidate, key string, mine int) (choice, candidate) {
	sort.Slice(cands, func(a, b int) bool { return cands[a].older(cands[b]) })
	var own *candidate
	for i := range cands {
		if cands[i].PID == mine {
			own = &cands[i]
		}
	}
	for _, c := range cands {
		if c.PID != mine && c.Status != nil && c.Status.Mode == ModeShared &&
			c.Status.Key == key && c.Status.State == stateReady {
			return choiceJoin, c
		}
	}
	if own == nil {
		for _, c := range cands {
			if c.Status != nil && c.Status.Mode == ModeShared && c.Status.Key == key && c.Status.State == stateStarting {
				return choiceWait, candidate{}
			}
		}
		return choiceStart, candidate{}
	}
	for _, c := range cands {
		if !c.older(*own) {
			break
		}
		if c.Status == nil || c.Status.Mode == ModeShared && c.Status.Key == key && c.Status.State == stateStarting {
			return choiceWait, candidate{}
		}
	}
	return choiceLead, *own
}
