package wire

import (
	"fmt"

	"github.com/swillorg/swill-go/rpc"
)

// FrameType is element 3 of a request frame and element 2 of a response
// frame.
type FrameType uint8

// Frame types. Values 0 to 2 mean the same in both directions; 3 is CANCEL
// from the client and ERROR from the server.
const (
	TypeMessage     FrameType = 0 // a payload: request, result or stream item
	TypeEndOfStream FrameType = 1 // the sender's stream is finished
	TypeMetadata    FrameType = 2 // metadata on its own
	TypeCancel      FrameType = 3 // client to server: abandon the call
	TypeError       FrameType = 3 // server to client: the call failed
)

// Request is a decoded request frame. Its byte slices alias the buffer
// given to [ParseRequest] and are valid only as long as that buffer is.
type Request struct {
	// Seq is the client-chosen sequence number shared by a call's frames.
	Seq int64
	// Data is the raw MsgPack encoding of the payload (nil is the single
	// byte 0xc0). Decode it with [Decoder.Decode].
	Data []byte
	// RPC is the handler name.
	RPC []byte
	// Type is the frame type; TypeCancel is the only meaning of 3.
	Type FrameType
	// Metadata is the request metadata; nil when absent.
	Metadata rpc.Metadata
}

// Response is a decoded response frame. Data aliases the buffer given to
// [ParseResponse].
type Response struct {
	// Seq is the sequence number of the call the frame belongs to.
	Seq int64
	// Data is the raw MsgPack payload; for TypeError it is the error map.
	Data []byte
	// Type is the frame type; TypeError is the only meaning of 3.
	Type FrameType
	// Leading is the leading metadata the frame carries, or nil.
	Leading rpc.Metadata
	// Trailing is the trailing metadata the frame carries, or nil.
	Trailing rpc.Metadata
}

// FrameError describes a frame that does not follow the protocol. When
// HasSeq is true the sequence number (and, if RPC is not empty, the rpc
// name) could be read, so the peer can be answered with an ERROR frame.
type FrameError struct {
	Seq    int64
	HasSeq bool
	RPC    string
	Reason string
}

// Error implements the error interface.
func (e *FrameError) Error() string {
	if e.HasSeq {
		return fmt.Sprintf("codec: malformed frame (seq %d): %s", e.Seq, e.Reason)
	}
	return "codec: malformed frame: " + e.Reason
}
