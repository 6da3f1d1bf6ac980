package clientgo

import (
	"errors"
	"fmt"
)

// Errors that do not come from the server. A server's ERROR frame is always
// an [*rpc.Error] for which [rpc.IsWireError] is true; the errors below
// never are, so the two cannot be confused.
var (
	// ErrClosed is returned by calls made after [Client.Close], and by
	// calls that were open when it was called.
	ErrClosed = errors.New("clientgo: client closed")

	// ErrConnectionLost is the error of every call that was open when the
	// connection broke, wrapped together with the transport's error (for
	// instance a [*transport.CloseError]), so that both errors.Is(err,
	// ErrConnectionLost) and inspecting the cause work. Whether the server
	// ran such a call is unknown. New calls made while the client is
	// [StateDisconnected] get it too.
	ErrConnectionLost = errors.New("clientgo: connection lost")

	// ErrSlowConsumer ends a stream whose buffer was full and whose
	// consumer took nothing for the slow-consumer timeout (see
	// [WithStreamBuffer] and [WithSlowConsumerTimeout]). The client
	// cancels such a stream on the server; the other calls on the
	// connection go on.
	ErrSlowConsumer = errors.New("clientgo: stream consumer stalled, buffer full")
)

// errStreamClosed is what Recv and Send return after the caller closed the
// stream with Close.
var errStreamClosed = errors.New("clientgo: stream closed")

// errSendClosed is what Send returns after CloseSend or CloseAndReceive.
var errSendClosed = errors.New("clientgo: send after the end of the request stream")

// lostError wraps cause as a connection loss.
func lostError(cause error) error {
	if cause == nil {
		return ErrConnectionLost
	}
	return fmt.Errorf("%w: %w", ErrConnectionLost, cause)
}

// protocolError describes a response frame that breaks the protocol.
type protocolError struct{ reason string }

func (e *protocolError) Error() string { return "clientgo: protocol violation: " + e.reason }
