// Package memtransport connects a swill client and server in memory, with
// no sockets, for fast tests. [Pipe] returns the two ends of one
// connection; [Dialer] hands the server end of every dial to a function
// (for instance a swill server's ServeConn).
package memtransport
