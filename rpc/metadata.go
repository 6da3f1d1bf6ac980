package rpc

import (
	"errors"
	"math"
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
	ms, ok := e.Metadata.Millis(RetryAfterKey)
	if !ok {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
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

// Millis reads the value of key as a number of milliseconds, the form of
// TimeoutKey and RetryAfterKey: an integer of any width or a float
// (truncated), as MsgPack decodes them. A negative value reads as 0, and
// one past the longest time.Duration as that duration's milliseconds; ok
// is false when the key is absent or holds no number (or NaN).
func (md Metadata) Millis(key string) (ms int64, ok bool) {
	switch n := md[key].(type) {
	case int:
		ms = int64(n)
	case int8:
		ms = int64(n)
	case int16:
		ms = int64(n)
	case int32:
		ms = int64(n)
	case int64:
		ms = n
	case uint:
		ms = int64(min(uint64(n), uint64(maxMillis)))
	case uint8:
		ms = int64(n)
	case uint16:
		ms = int64(n)
	case uint32:
		ms = int64(n)
	case uint64:
		ms = int64(min(n, uint64(maxMillis)))
	case float32:
		return floatMillis(float64(n))
	case float64:
		return floatMillis(n)
	default:
		return 0, false
	}
	return min(max(ms, 0), maxMillis), true
}

// maxMillis is the longest time.Duration (about 292 years) in
// milliseconds; longer values are cut to it rather than wrapping into the
// past.
const maxMillis = int64(math.MaxInt64 / int64(time.Millisecond))

func floatMillis(f float64) (int64, bool) {
	switch {
	case math.IsNaN(f):
		return 0, false
	case f <= 0:
		return 0, true
	case f >= float64(maxMillis):
		return maxMillis, true
	}
	return int64(f), true
}

// String returns the value of key if it is a string, and "" otherwise.
func (md Metadata) String(key string) string {
	s, _ := md[key].(string)
	return s
}
