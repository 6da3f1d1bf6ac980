// Package epoll is a server-side swill transport for many mostly idle
// connections, on Linux.
//
// The default transport and package gobwasws park one goroutine in a
// blocking read on every connection, with its stack and read buffer: some
// 15-25 KiB per connection that does nothing. An [Acceptor] parks none.
// It registers each upgraded socket with an epoll instance (through
// golang.org/x/sys/unix), which a small pool of workers waits on in turn,
// through the Go runtime's poller rather than a blocking epoll_wait. The
// worker whose turn it is serves the connections it finds ready itself:
// it reads what each socket holds into its own buffer, parses the
// WebSocket frames in it and calls [transport.Handler.HandleMessage] for
// each message, in order, never for one connection on two workers at
// once. It passes the turn to wait on to another worker only when it
// found several connections ready, so that a lone message is read, served
// and answered on the goroutine woken for it. Only the bytes of a frame
// cut in two by a read are kept with the connection until the rest
// arrives, so an idle connection holds no buffer and no goroutine: about
// 2 KiB of Go heap in all, against some 15-25 KiB with a reader
// goroutine.
//
// Writes never wait in WriteMessage: frames are held in a pooled buffer
// until [transport.Conn.Flush], which writes them through the net.Conn,
// so the Go runtime waits on a full socket for the writer, or until the
// worker flushes on idle (see [transport.Releaser]): then it makes one
// non-blocking write and leaves what the socket does not take to a
// goroutine of its own, so that a peer that stops reading holds up no
// other connection. The handshake, origin checks, subprotocol choice,
// control frames and close handshake are shared with package gobwasws.
//
// The workers run while the Acceptor has connections, and end with the
// last one. Handlers must not block in HandleMessage for long: a worker
// serves many connections. A connection is a [transport.Releaser]: a
// handler that may block (the swill server's inline calls) has
// ReleaseReader called, and a new worker takes the connection, the
// released worker's place in the pool and its turn to wait. HandleClose
// is called from a goroutine of its own, since a server may wait there
// for its calls to end.
//
// Use it on the server only, with the default or the gobwasws dialer on
// the client:
//
//	srv := swill.NewServer(swill.WithTransport(&epoll.Acceptor{}))
//
// It needs Linux and a plain TCP or Unix socket: terminate TLS in front
// of it. Elsewhere Accept fails with an error wrapping
// errors.ErrUnsupported.
package epoll
