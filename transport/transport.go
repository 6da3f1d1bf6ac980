package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// MessageType is the kind of a WebSocket data message.
type MessageType int

// Message types, numbered as WebSocket opcodes.
const (
	Text   MessageType = 1
	Binary MessageType = 2
)

// StatusCode is a WebSocket close code.
type StatusCode int

// Close codes used by swill.
const (
	StatusNormalClosure   StatusCode = 1000
	StatusGoingAway       StatusCode = 1001
	StatusProtocolError   StatusCode = 1002
	StatusUnsupportedData StatusCode = 1003
	StatusNoStatus        StatusCode = 1005
	StatusAbnormal        StatusCode = 1006
	StatusPolicyViolation StatusCode = 1008
	StatusMessageTooBig   StatusCode = 1009
	StatusInternalError   StatusCode = 1011
)

// CloseError is the error a Conn reports when it was closed with a close
// frame.
type CloseError struct {
	Code   StatusCode
	Reason string
}

// Error implements the error interface.
func (e *CloseError) Error() string {
	return fmt.Sprintf("transport: closed with status %d %q", int(e.Code), e.Reason)
}

// CloseStatus returns the close code carried by err's chain, or -1 when err
// holds no [*CloseError].
func CloseStatus(err error) StatusCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// ErrClosed is returned by writes on a connection that is already closed.
var ErrClosed = errors.New("transport: connection closed")

// ErrReadTimeout is what HandleClose gets when a message did not arrive
// in full within [AcceptOptions.ReadTimeout].
var ErrReadTimeout = errors.New("transport: message not received within the read timeout")

// Handler receives what a [Conn] reads. A transport calls it as follows,
// and a handler may rely on nothing more.
type Handler interface {
	// HandleMessage is called for every message, in order and never
	// concurrently with itself, unless a [Releaser] released the call.
	// data is valid only until it returns. It must not block for long:
	// the connection reads nothing else meanwhile (a [Releaser] lets it
	// hand the reading over instead). It may call any method of the Conn
	// but Start, Close included; on a [Releaser] it may write with
	// WriteMessage and leave the Flush to the transport.
	HandleMessage(typ MessageType, data []byte)
	// HandleClose is called exactly once, when the connection has ended,
	// after the last HandleMessage of the reader in charge has returned
	// (a call a [Releaser] released may still be running); err says why
	// (a [*CloseError] for a close frame, [ErrClosed] when this side
	// closed it). It may block: a swill server's waits for the
	// connection's handlers to return. A transport therefore calls it
	// where blocking holds up no other connection and no lock of its own
	// (transport/epoll, whose readers serve many connections, calls it on
	// a goroutine of its own).
	HandleClose(err error)
}

// Releaser is a [Conn] that lets its handler do work inside
// HandleMessage: work that usually returns at once but sometimes blocks,
// and whose output it writes from there. It is the one capability a
// transport needs for a swill server to run unary calls where their
// requests were read, and it makes two promises.
//
// Release: ReleaseReader may be called from any goroutine, only while a
// HandleMessage call of the connection is running, and at most once per
// such call. The transport then goes on reading on a new goroutine, and
// delivers later messages and HandleClose from there, while the released
// HandleMessage call is still running: from then on, HandleMessage may
// run concurrently with itself. The data of the released call stays
// valid until it returns; its goroutine then leaves the connection alone.
//
// Flush on idle: HandleMessage may write with WriteMessage, as the single
// writer of the moment, and leave the Flush to the transport. Every time
// the reader in charge has delivered everything it has received and is
// about to wait for the network (in the middle of a message too), the
// transport flushes what WriteMessage held when a HandleMessage call
// returned, or when ReleaseReader was called (the new reader flushes
// it), so that the answers to a burst of messages leave together. What
// is written outside HandleMessage, and by a released call after its
// release, waits for Flush. When the
// reader serves other connections too (transport/epoll's workers), the
// transport never waits for the peer there, in that WriteMessage or in
// that flush: it keeps in memory what the socket does not take at once
// and writes it from a goroutine of its own, so that a peer that stops
// reading holds up no other connection. Flushing on idle does not
// replace Flush: writers other than HandleMessage still call it.
type Releaser interface {
	Conn
	ReleaseReader()
}

// Conn is one established connection.
//
// Start is called once. WriteMessage and Flush are called by a single
// writer at a time (the caller serializes them), from any goroutine, the
// reader's in HandleMessage included; Ping, Close and Subprotocol may be
// called concurrently with everything. A write that waits for the
// network fails only once the peer has accepted nothing for the write
// timeout ([AcceptOptions.WriteTimeout]); the connection is then
// unusable, and its reader ends with HandleClose.
//
// A transport may also implement [Releaser]; a Conn that does not is
// complete, and a swill server runs every call of it on a worker.
type Conn interface {
	// Start begins delivering messages to h and returns at once.
	Start(h Handler)
	// WriteMessage sends p as one binary message. The transport may hold
	// it in memory until Flush (or, on a [Releaser], until its reader
	// flushes on idle); p may be reused once WriteMessage returns.
	WriteMessage(p []byte) error
	// Flush pushes every held message to the network.
	Flush() error
	// Ping sends a ping and waits for its pong or for ctx to end.
	Ping(ctx context.Context) error
	// Close sends a close frame with code and reason and releases the
	// connection; the reader then ends with HandleClose. It must not wait
	// for the reader: it may be called from HandleMessage.
	// Later calls do nothing and return nil.
	Close(code StatusCode, reason string) error
	// Subprotocol returns the negotiated WebSocket subprotocol.
	Subprotocol() string
}

// AcceptOptions configures an [Acceptor]. The zero value is usable.
type AcceptOptions struct {
	// Subprotocols lists the accepted subprotocols in order of preference;
	// the first one the client offers is chosen.
	Subprotocols []string
	// OriginPatterns lists host patterns (path.Match syntax) allowed in
	// the Origin header besides the request's own host. Empty means only
	// same-origin requests from browsers are accepted.
	OriginPatterns []string
	// InsecureSkipVerify accepts any Origin. Only for development.
	InsecureSkipVerify bool
	// ReadLimit is the largest message accepted, in bytes; a larger one
	// closes the connection with [StatusMessageTooBig]. Zero means 1 MiB.
	ReadLimit int64
	// WriteTimeout is how long a write may wait while the peer accepts
	// nothing before the connection is closed, for transports that have
	// no write timeout of their own configured: it measures progress, so
	// a peer that reads slowly is not cut. Zero means the transport's
	// default.
	WriteTimeout time.Duration
	// ReadTimeout bounds how long the rest of a message may take to
	// arrive once the transport has started reading it; when it runs out
	// the connection is closed with [StatusPolicyViolation] and the
	// handler's HandleClose gets [ErrReadTimeout]. Zero means no bound.
	// Transports that cannot bound it ignore it.
	ReadTimeout time.Duration
}

// DialOptions configures a [Dialer]. The zero value is usable.
type DialOptions struct {
	// Subprotocols lists the subprotocols offered, in order of preference.
	Subprotocols []string
	// Header holds extra HTTP headers for the upgrade request.
	Header http.Header
	// HTTPClient performs the upgrade request; nil means a client with
	// no timeout (the dial context bounds the handshake). Its Transport,
	// when an *http.Transport, is used for TLS and proxy settings.
	HTTPClient *http.Client
	// ReadLimit is the largest message accepted, in bytes. Zero means
	// 16 MiB.
	ReadLimit int64
}

// Acceptor upgrades server-side HTTP requests.
type Acceptor interface {
	// Accept completes the WebSocket handshake on w and r. On failure it
	// has already written an HTTP error response.
	Accept(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (Conn, error)
}

// Dialer opens client-side connections.
type Dialer interface {
	// Dial opens a connection to the ws:// or wss:// url.
	Dial(ctx context.Context, url string, opts *DialOptions) (Conn, error)
}
