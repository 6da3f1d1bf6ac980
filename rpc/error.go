package rpc

import (
	"errors"
	"fmt"
)

// Error is a failed call as the wire carries it: an ERROR frame with a code,
// a message and optional data. Handlers return it (directly or wrapped) to
// choose what the caller sees; clients receive it for every ERROR frame.
//
// The message and the data are sent to the peer as they are: do not put
// secrets in them.
type Error struct {
	// Code is the error code, see the Code constants.
	Code Code
	// Message is a human-readable description sent to the peer.
	Message string
	// Data is optional structured detail (for example the per-field
	// report of a validation error). Nil means absent on the wire.
	Data any
	// Metadata is the trailing metadata of the ERROR frame, such as the
	// retry hint under [RetryAfterKey] that comes with a 429 or a 503.
	// Nil means none.
	Metadata Metadata

	cause error
	wire  bool
}

// NewError returns an error with the given code and message.
func NewError(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Errorf returns an error with the given code and a message formatted with
// [fmt.Sprintf]. A %w verb in format also makes the wrapped error the
// cause, reachable with [errors.Unwrap]; the cause itself never goes on the
// wire beyond the formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), cause: unwrapOnce(err)}
}

func unwrapOnce(err error) error {
	if u, ok := err.(interface{ Unwrap() error }); ok {
		return u.Unwrap()
	}
	return nil
}

// WithData returns a copy of e carrying data.
func (e *Error) WithData(data any) *Error {
	c := *e
	c.Data = data
	return &c
}

// WithMetadata returns a copy of e carrying md as the ERROR frame's
// trailing metadata.
func (e *Error) WithMetadata(md Metadata) *Error {
	c := *e
	c.Metadata = md
	return &c
}

// WithCause returns a copy of e whose [errors.Unwrap] is cause. The cause
// stays on this side of the wire.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// NewWireError returns an error decoded from an ERROR frame. Clients use it
// so that [IsWireError] can tell server errors from local ones.
func NewWireError(code Code, message string, data any) *Error {
	return &Error{Code: code, Message: message, Data: data, wire: true}
}

// IsWireError reports whether err's chain holds an [*Error] that was
// received from the peer, as opposed to one produced locally.
func IsWireError(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.wire
}

// Error implements the error interface: "swill: <code> <message>".
func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("swill: %d %s", int(e.Code), e.Code)
	}
	return fmt.Sprintf("swill: %d %s", int(e.Code), e.Message)
}

// Unwrap returns the cause given to [Errorf] with %w or to [Error.WithCause].
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, rpc.NewError(rpc.CodeNotFound, "")) matches by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}
