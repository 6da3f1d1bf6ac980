// Package wsconn holds the WebSocket protocol logic shared by the
// gobwasws and epoll transports: the handshake, frame headers, the batched
// write path, control frames and the close handshake. The transports
// differ only in how they read: one goroutine per connection, or a poller
// and workers.
//
// A transport's reader finds each frame header with [ParseHeader], asks
// [Conn.Header] whether to read or skip the payload, passes each complete
// frame to [Conn.Frame] and calls [Conn.Finish] once when reading ends.
package wsconn
