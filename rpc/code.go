package rpc

import (
	"errors"
	"strconv"
)

// Code is the integer carried by an ERROR frame. The protocol borrows HTTP
// status numbers; any integer is allowed on the wire, the constants below
// are the ones Swill itself uses.
type Code int

// The codes Swill uses. A handler may return any other integer.
const (
	CodeBadRequest      Code = 400 // malformed frame, undecodable payload, protocol misuse
	CodeUnauthorized    Code = 401 // the caller is not authenticated
	CodeForbidden       Code = 403 // the caller may not make this call
	CodeNotFound        Code = 404 // no handler has the requested name
	CodeTimeout         Code = 408 // the call's deadline passed
	CodeValidation      Code = 422 // the request failed validation
	CodeTooManyRequests Code = 429 // a per-connection limit was reached
	CodeInternal        Code = 500 // the handler failed unexpectedly
	CodeInvalidRPC      Code = 501 // the handler exists but cannot serve this call
	CodeUnavailable     Code = 503 // the server is shutting down
)

var codeNames = map[Code]string{
	CodeBadRequest:      "bad request",
	CodeUnauthorized:    "unauthorized",
	CodeForbidden:       "forbidden",
	CodeNotFound:        "not found",
	CodeTimeout:         "timeout",
	CodeValidation:      "validation error",
	CodeTooManyRequests: "too many requests",
	CodeInternal:        "internal error",
	CodeInvalidRPC:      "invalid rpc",
	CodeUnavailable:     "unavailable",
}

// String returns a short English name for the known codes and the number
// for the others.
func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return "code " + strconv.Itoa(int(c))
}

// CodeOf returns the code of the first [*Error] in err's chain,
// [CodeInternal] for any other non-nil error, and 0 for nil.
func CodeOf(err error) Code {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
