// Package transport defines how swill/1 frames travel: a [Conn] carries
// whole messages in both directions, an [Acceptor] turns an HTTP upgrade
// request into a Conn on the server, and a [Dialer] opens one from the
// client. The server and the client depend only on these interfaces.
//
// [WebSocket] is the default implementation, on github.com/coder/websocket.
// It batches writes: frames written with [Conn.WriteMessage] stay in memory
// until [Conn.Flush], so that several frames share one system call while
// each remains its own WebSocket message. Package memtransport provides an
// in-memory pair for tests. Package gobwasws is a faster implementation on
// github.com/gobwas/ws, package epoll an event-driven server side for many
// idle connections on Linux, and package transporttest the conformance
// suite all of them pass.
//
// # Reading is push, not pull
//
// A Conn delivers what it reads to a [Handler] given to [Conn.Start]. The
// WebSocket transport runs one reader goroutine per connection to do so,
// but the interface does not assume it: an event-driven transport can call
// the Handler from a poller when the socket becomes readable, with no
// goroutine parked on an idle connection.
package transport
