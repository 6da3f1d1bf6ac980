// Package wire reads and writes the frames of the swill/1 protocol, and
// holds the MsgPack encoding behind package codec.
//
// A request frame (client to server) is the MsgPack array
// [seq, data, rpc, type, metadata]; a response frame (server to client) is
// [seq, data, type, leading_metadata, trailing_metadata]. The envelope is
// read and written by hand, so the hot path neither builds maps nor copies
// payloads: [ParseRequest] and [ParseResponse] return views into the
// input, and an [Encoder] writes a whole frame, payload included, into one
// [Buffer].
//
// Payloads are encoded as package codec documents: the library configured
// for the protocol, or a plan made once per struct type (plan.go,
// planread.go) that writes the library's exact bytes faster. Decoding
// checks a frame's shape before the MsgPack library sees it (see skip).
//
// The package is shared by swill and clientgo and is not part of the
// public API: its names may change with any release.
package wire
