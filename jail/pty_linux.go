package jail

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// openPTY opens a new pseudo-terminal in the jail's own devpts instance
// and returns its master and slave. Runs in the jail's init, after the
// pivot, so that /dev/pts is the jail's.
func openPTY(size WinSize) (master, slave *os.File, err error) {
	mfd, err := unix.Open("/dev/pts/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open pseudo-terminal: %w", err)
	}
	master = os.NewFile(uintptr(mfd), "/dev/pts/ptmx")
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlock pseudo-terminal: %w", err)
	}
	// TIOCGPTPEER opens the slave from the master itself, with no path
	// that something in the jail could swap.
	sfd, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(mfd), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if errno != 0 {
		master.Close()
		return nil, nil, fmt.Errorf("open pseudo-terminal slave: %w", errno)
	}
	slave = os.NewFile(sfd, "pty-slave")
	if err := unix.IoctlSetWinsize(int(sfd), unix.TIOCSWINSZ, &unix.Winsize{Row: size.Rows, Col: size.Cols}); err != nil {
		master.Close()
		slave.Close()
		return nil, nil, fmt.Errorf("set terminal size: %w", err)
	}
	return master, slave, nil
}

// sendReply sends the init's reply, and with it the pseudo-terminal's
// master when there is one, over the sync socket.
func sendReply(sync *os.File, reply []byte, master *os.File) error {
	var oob []byte
	if master != nil {
		oob = unix.UnixRights(int(master.Fd()))
	}
	return unix.Sendmsg(int(sync.Fd()), reply, oob, nil, 0)
}

// recvReply reads the init's newline-terminated reply from the sync socket
// and any descriptors sent with it.
func recvReply(sync *os.File) ([]byte, []*os.File, error) {
	rc, err := sync.SyscallConn()
	if err != nil {
		return nil, nil, err
	}
	var (
		msg   []byte
		files []*os.File
		rerr  error
	)
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4))
	for len(msg) == 0 || msg[len(msg)-1] != '\n' {
		var n, oobn int
		err := rc.Read(func(fd uintptr) bool {
			n, oobn, _, _, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_CMSG_CLOEXEC)
			return rerr != unix.EAGAIN
		})
		if err == nil {
			err = rerr
		}
		if err != nil {
			return nil, files, err
		}
		if n == 0 && oobn == 0 {
			return nil, files, fmt.Errorf("unexpected end of reply")
		}
		msg = append(msg, buf[:n]...)
		if oobn > 0 {
			cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
			if err != nil {
				return nil, files, err
			}
			for _, c := range cmsgs {
				fds, err := unix.ParseUnixRights(&c)
				if err != nil {
					return nil, files, err
				}
				for _, fd := range fds {
					files = append(files, os.NewFile(uintptr(fd), "pty-master"))
				}
			}
		}
	}
	return msg, files, nil
}
