package swill

import (
	"errors"
	"fmt"
)

// The problems [Server.Register] and [Server.Mount] report, each inside a
// [*RegisterError]; test for them with [errors.Is].
var (
	// ErrNilHandler: a nil *Handler was given.
	ErrNilHandler = errors.New("nil handler")
	// ErrNilFunc: the handler was built with a nil function.
	ErrNilFunc = errors.New("nil function")
	// ErrEmptyName: the handler was built with an empty name.
	ErrEmptyName = errors.New("empty name")
	// ErrReservedName: a handler's name starts with the prefix "swill.",
	// which is reserved for built-in calls, or a built-in call's name
	// does not.
	ErrReservedName = errors.New(`the prefix "swill." is reserved for built-in calls`)
	// ErrDuplicateName: the name is registered already, or given twice.
	ErrDuplicateName = errors.New("name already registered")
	// ErrUnsupportedType: the request or response type holds a channel, a
	// function, an unsafe pointer, a uintptr or a complex number, which
	// MsgPack cannot carry.
	ErrUnsupportedType = errors.New("cannot travel in MsgPack")
)

// RegisterError is one handler [Server.Register] or [Server.Mount]
// refused. When several handlers are refused, Register returns them
// joined ([errors.Join]); [errors.As] finds the first.
type RegisterError struct {
	// Name is the handler's name; empty for a nil handler.
	Name string
	// Err says what is wrong: one of the Err values of this package, or
	// several of them joined, possibly wrapped with details.
	Err error
}

// Error implements error: `swill: handler "name": what is wrong`.
func (e *RegisterError) Error() string {
	if errors.Is(e.Err, ErrNilHandler) && e.Name == "" {
		return "swill: " + e.Err.Error()
	}
	return fmt.Sprintf("swill: handler %q: %v", e.Name, e.Err)
}

// Unwrap returns e.Err.
func (e *RegisterError) Unwrap() error { return e.Err }
