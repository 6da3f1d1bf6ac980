package rpc

// Metadata is a set of key/value pairs that travels beside a call's
// messages: request metadata from the client, leading and trailing metadata
// from the server. Values are any MsgPack-encodable value.
type Metadata map[string]any

// TimeoutKey is the request metadata key that carries a call's deadline:
// the number of milliseconds (an integer) the caller is still willing to
// wait. Clients set it from their context's deadline; the server applies it
// to the handler's context.
const TimeoutKey = "swill-timeout-ms"

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
