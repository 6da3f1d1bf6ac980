// Package codec encodes and decodes the frames of the swill/1 protocol.
//
// A request frame (client to server) is the MsgPack array
// [seq, data, rpc, type, metadata]; a response frame (server to client) is
// [seq, data, type, leading_metadata, trailing_metadata]. The envelope is
// read and written by hand, so the hot path neither builds maps nor copies
// payloads: [ParseRequest] and [ParseResponse] return views into the
// input, and an [Encoder] writes a whole frame, payload included, into one
// buffer.
//
// Payloads are ordinary MsgPack values encoded with
// github.com/vmihailenco/msgpack/v5, configured once for the protocol:
// integers in their smallest form, map keys sorted, struct fields named by
// their msgpack tag (or json tag when there is none). To sort the keys of
// every map type, not only map[string]any, the package registers a
// sorting encoder with the MsgPack library for each map type it meets;
// the registration is process-wide.
//
// Decoding checks a frame's shape before the MsgPack library sees it:
// declared lengths must fit the frame and arrays and maps may nest at
// most [MaxDepth] levels.
//
// The package knows nothing of servers or clients; both build on it.
package codec
