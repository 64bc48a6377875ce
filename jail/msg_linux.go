package jail

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/sys/unix"
)

// maxMessageFDs bounds the descriptors that come with one message: a
// session's connection and its stdin, stdout and stderr.
const maxMessageFDs = 4

// sendMsg sends v as JSON in one message on the SOCK_SEQPACKET socket fd,
// with the descriptors fds.
func sendMsg(fd int, v any, fds ...int) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	for {
		// MSG_DONTWAIT: a peer that stopped reading fails the send
		// instead of blocking the sender.
		err = unix.Sendmsg(fd, data, oob, nil, unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT)
		if err != unix.EINTR {
			return err
		}
	}
}

// recvMsg reads one message from the SOCK_SEQPACKET socket fd into v and
// returns the descriptors that came with it, close-on-exec. It returns
// io.EOF once the peer has closed the connection. On an error it closes
// every descriptor it received.
func recvMsg(fd int, v any) ([]int, error) {
	buf := make([]byte, maxMessage)
	oob := make([]byte, unix.CmsgSpace(maxMessageFDs*4))
	var n, oobn, flags int
	var err error
	for {
		n, oobn, flags, _, err = unix.Recvmsg(fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	fds, ferr := parseRights(oob[:oobn])
	switch {
	case ferr != nil:
		err = ferr
	case flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0:
		err = fmt.Errorf("message longer than %d bytes or with more than %d descriptors", maxMessage, maxMessageFDs)
	case n == 0:
		err = io.EOF
	default:
		err = json.Unmarshal(buf[:n], v)
	}
	if err != nil {
		closeFDs(fds)
		return nil, err
	}
	return fds, nil
}

func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	cmsgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for _, c := range cmsgs {
		got, err := unix.ParseUnixRights(&c)
		if err != nil {
			closeFDs(fds)
			return nil, err
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// setRecvTimeout bounds every receive on fd; zero removes the bound.
func setRecvTimeout(fd int, d time.Duration) error {
	tv := unix.NsecToTimeval(d.Nanoseconds())
	return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
}

// isTimeout reports whether err is a receive that ran past its bound.
func isTimeout(err error) bool {
	return errors.Is(err, unix.EAGAIN)
}
