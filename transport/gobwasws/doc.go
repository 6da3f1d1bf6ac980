// Package gobwasws is a swill transport built on github.com/gobwas/ws,
// tuned for throughput.
//
// [Transport] implements both [transport.Acceptor] and [transport.Dialer]:
//
//	srv := swill.NewServer(swill.WithTransport(gobwasws.Transport{}))
//
// Like the default transport it writes each message as its own frame into
// a buffer that reaches the network only on [transport.Conn.Flush] (or
// when it fills), so a writer draining a queue sends several frames per
// system call. It differs in what it leaves out: no per-message reader or
// writer objects and no copy of small messages. Frame headers are parsed
// in place from the connection's read buffer, and a message that fits in
// it is handed to the [transport.Handler] without being copied; larger
// ones are read into pooled buffers. The write buffer is taken from a pool
// when a batch starts and returned on Flush, so an idle connection holds
// only its read buffer and its reader goroutine.
//
// The server side checks the Origin header as github.com/coder/websocket
// does (same-origin by default, [transport.AcceptOptions.OriginPatterns],
// [transport.AcceptOptions.InsecureSkipVerify]) and picks the first of its
// subprotocols that the client offers. Control frames are handled inside
// the transport: pings are answered, and a close frame is answered with
// one carrying the same code before the connection ends. Compression
// (permessage-deflate) is not negotiated.
package gobwasws
