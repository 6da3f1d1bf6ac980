package clientgo

import (
	"errors"
	"io"
)

// Errors that do not come from the server. A server's ERROR frame is always
// an [*rpc.Error] for which [rpc.IsWireError] is true; the errors below
// never are, so the two cannot be confused.
//
// None of them is, or wraps, [io.EOF]: a stream's Recv returns io.EOF only
// when the server ended the stream normally (END_OF_STREAM), so a loop
// that stops at io.EOF never takes a stream cut short for a complete one.
// A stream cut short ends with one of these, with ctx.Err() when its
// context ended, or with the server's [*rpc.Error] (for instance 503 when
// the server shut down while it ran).
var (
	// ErrClosed is returned by calls made after [Client.Close], and by
	// calls that were open when it was called.
	ErrClosed = errors.New("clientgo: client closed")

	// ErrConnectionLost is the error of every call that was open when the
	// connection broke, including a server that closed it while shutting
	// down (close status 1001). It is wrapped together with the transport's
	// error (for instance a [*transport.CloseError]), so that both
	// errors.Is(err, ErrConnectionLost) and inspecting the cause work,
	// except that a cause that is an end of file (a TCP connection that
	// just ended) is kept in the message only: errors.Is(err, io.EOF) is
	// false. Whether the server ran such a call is unknown. New calls made
	// while the client is [StateDisconnected] get it too.
	ErrConnectionLost = errors.New("clientgo: connection lost")

	// ErrSlowConsumer ends a stream whose buffer was full and whose
	// consumer took nothing for the slow-consumer timeout (see
	// [WithStreamBuffer] and [WithSlowConsumerTimeout]). The client
	// cancels such a stream on the server; the other calls on the
	// connection go on.
	ErrSlowConsumer = errors.New("clientgo: stream consumer stalled, buffer full")

	// ErrStreamClosed is what Recv, Send and CloseAndReceive return after
	// the caller closed a stream or a [Subscription] that was still open
	// with its Close method; All stops without it.
	ErrStreamClosed = errors.New("clientgo: stream closed")
)

// errSendClosed is what Send returns after CloseSend or CloseAndReceive.
var errSendClosed = errors.New("clientgo: send after the end of the request stream")

// lostError wraps cause as a connection loss.
func lostError(cause error) error {
	if cause == nil {
		return ErrConnectionLost
	}
	return &lostErr{cause: cause}
}

// lostErr is a connection loss with its cause. It unwraps to
// ErrConnectionLost and to the cause, unless the cause is an end of file:
// io.EOF is the normal end of a stream, and a lost connection must never
// read as one.
type lostErr struct{ cause error }

// Error names the loss and its cause.
func (e *lostErr) Error() string { return ErrConnectionLost.Error() + ": " + e.cause.Error() }

// Unwrap returns ErrConnectionLost and the cause, unless the cause is an
// end of file.
func (e *lostErr) Unwrap() []error {
	if errors.Is(e.cause, io.EOF) {
		return []error{ErrConnectionLost}
	}
	return []error{ErrConnectionLost, e.cause}
}

// protocolError describes a response frame that breaks the protocol.
type protocolError struct{ reason string }

func (e *protocolError) Error() string { return "clientgo: protocol violation: " + e.reason }
