package rpc

import (
	"errors"
	"time"
)

// Metadata is a set of key/value pairs that travels beside a call's
// messages: request metadata from the client, leading and trailing metadata
// from the server. Values are any MsgPack-encodable value.
type Metadata map[string]any

// TimeoutKey is the request metadata key that carries a call's deadline:
// the number of milliseconds (an integer) the caller is still willing to
// wait. Clients set it from their context's deadline; the server applies it
// to the handler's context.
const TimeoutKey = "swill-timeout-ms"

// RetryAfterKey is the ERROR frame metadata key that carries a retry
// hint: the number of milliseconds (an integer) the caller should wait
// before trying the call again, on this server (429, too many requests)
// or, after a 503 from a server shutting down, on another one. Read it
// with [RetryAfter].
const RetryAfterKey = "swill-retry-after-ms"

// RetryAfter returns the retry hint carried by err's chain: the
// [RetryAfterKey] metadata of an [*Error]. ok is false when there is none.
func RetryAfter(err error) (d time.Duration, ok bool) {
	var e *Error
	if !errors.As(err, &e) {
		return 0, false
	}
	var ms int64
	switch n := e.Metadata[RetryAfterKey].(type) {
	case int8:
		ms = int64(n)
	case int16:
		ms = int64(n)
	case int32:
		ms = int64(n)
	case int64:
		ms = n
	case int:
		ms = int64(n)
	case uint8:
		ms = int64(n)
	case uint16:
		ms = int64(n)
	case uint32:
		ms = int64(n)
	case uint64:
		ms = int64(min(n, 1<<40))
	case float64:
		ms = int64(max(min(n, 1<<40), 0))
	default:
		return 0, false
	}
	return time.Duration(max(ms, 0)) * time.Millisecond, true
}

// Clone returns a shallow copy of md; a nil md gives nil.
func (md Metadata) Clone() Metadata {
	if md == nil {
		return nil
	}
	c := make(Metadata, len(md))
	for k, v := range md {
		c[k] = v
	}
	return c
}

// Merge copies every pair of other into md, replacing values of equal
// keys, and returns md (a new map if md is nil and other is not empty).
func (md Metadata) Merge(other Metadata) Metadata {
	if len(other) == 0 {
		return md
	}
	if md == nil {
		md = make(Metadata, len(other))
	}
	for k, v := range other {
		md[k] = v
	}
	return md
}

// String returns the value of key if it is a string, and "" otherwise.
func (md Metadata) String(key string) string {
	s, _ := md[key].(string)
	return s
}
