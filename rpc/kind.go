package rpc

// Kind is the shape of a call: whether each side sends one message or a
// stream of them.
type Kind uint8

// The four kinds of call.
const (
	KindUnary        Kind = iota // one request, one response
	KindServerStream             // one request, a stream of responses
	KindClientStream             // a stream of requests, one response
	KindBidiStream               // streams both ways
)

// RequestStreams reports whether the client sends a stream.
func (k Kind) RequestStreams() bool { return k == KindClientStream || k == KindBidiStream }

// ResponseStreams reports whether the server sends a stream.
func (k Kind) ResponseStreams() bool { return k == KindServerStream || k == KindBidiStream }

// String returns "unary", "server_stream", "client_stream" or "bidi_stream".
func (k Kind) String() string {
	switch k {
	case KindUnary:
		return "unary"
	case KindServerStream:
		return "server_stream"
	case KindClientStream:
		return "client_stream"
	case KindBidiStream:
		return "bidi_stream"
	}
	return "unknown"
}
