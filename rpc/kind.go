package rpc

// Kind is the shape of a call: whether each side sends one message or a
// stream of them.
type Kind uint8

// The four kinds of call.
const (
	Unary        Kind = iota // one request, one response
	ServerStream             // one request, a stream of responses
	ClientStream             // a stream of requests, one response
	BidiStream               // streams both ways
)

// RequestStreams reports whether the client sends a stream.
func (k Kind) RequestStreams() bool { return k == ClientStream || k == BidiStream }

// ResponseStreams reports whether the server sends a stream.
func (k Kind) ResponseStreams() bool { return k == ServerStream || k == BidiStream }

// String returns "unary", "server_stream", "client_stream" or "bidi_stream".
func (k Kind) String() string {
	switch k {
	case Unary:
		return "unary"
	case ServerStream:
		return "server_stream"
	case ClientStream:
		return "client_stream"
	case BidiStream:
		return "bidi_stream"
	}
	return "unknown"
}
