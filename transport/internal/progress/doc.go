// Package progress writes to a network connection under a deadline that
// measures the peer's progress, not the length of one write: a write
// goes on for as long as the peer keeps accepting bytes, at any rate, and
// fails only once the peer has accepted nothing for the timeout.
//
// Progress is a write call that returned, and, on Linux TCP sockets, the
// bytes the peer has acknowledged (TCP_INFO): a sender blocked on a full
// socket buffer is woken only once a good part of it has drained, which
// over a large buffer and a slow reader may take far longer than the
// timeout, while the peer acknowledges bytes all along.
//
// The transports (the default one, gobwasws and epoll) send every byte
// through a [Writer]; it is internal so that they share one definition of
// "a peer that does not read".
package progress
