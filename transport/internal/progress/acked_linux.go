package progress

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// notSentLowat bounds the bytes a socket holds that it has not sent yet
// (TCP_NOTSENT_LOWAT): past it, a write waits. Without it, Linux lets a
// socket toward a slow reader hold megabytes, out of reach of the
// server's queue bound, and of a CANCEL, which can no longer drop them.
// Bytes in flight are bounded by the peer's window besides.
const notSentLowat = 64 << 10

// bound sets the socket's TCP_NOTSENT_LOWAT, if it has a socket.
func bound(nc net.Conn) {
	if rc := rawConn(nc); rc != nil {
		rc.Control(func(fd uintptr) {
			unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT, notSentLowat)
		})
	}
}

// rawConn returns the socket under nc (under TLS, the one TLS runs over),
// or nil.
func rawConn(nc net.Conn) syscall.RawConn {
	for {
		u, ok := nc.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		nc = u.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// ackedProbe returns a function that reads how many bytes the peer has
// acknowledged on nc's TCP socket (under TLS, the socket TLS runs over),
// or nil when nc has no socket.
func ackedProbe(nc net.Conn) func() (uint64, bool) {
	rc := rawConn(nc)
	if rc == nil {
		return nil
	}
	return func() (acked uint64, ok bool) {
		rc.Control(func(fd uintptr) {
			info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
			if err == nil {
				acked, ok = info.Bytes_acked, true
			}
		})
		return acked, ok
	}
}
