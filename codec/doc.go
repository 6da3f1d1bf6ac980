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
// Structs whose fields are booleans, numbers, strings, []byte, []string
// or such structs, named by msgpack or json tags with at most omitempty,
// go through a plan made once per type instead of the library's general
// reflective path: the same bytes, about three times faster to encode and
// four times faster to decode. A plan decodes only the forms it knows the
// library's answer for and leaves anything else (a value out of range, a
// nil, an int for a float) to the library; it also checks its first
// values of each type against the library and hands back, for good, any
// type it disagrees on. Types with methods of their own for MsgPack or text keep
// the library's path.
//
// Decoding checks a frame's shape before the MsgPack library sees it, and
// [Unmarshal] checks its input the same way: declared lengths must fit the
// data (the library allocates what a length claims before reading it) and
// arrays and maps may nest at most [MaxDepth] levels.
//
// The package knows nothing of servers or clients; both build on it.
package codec
