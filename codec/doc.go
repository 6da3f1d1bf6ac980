// Package codec encodes and decodes the payloads of the swill/1 protocol:
// the requests, results and stream items handlers and clients exchange.
//
// Payloads are ordinary MsgPack values encoded with
// github.com/vmihailenco/msgpack/v5, configured once for the protocol:
// integers in their smallest form, map keys sorted, struct fields named by
// their msgpack tag (or json tag when there is none). [Marshal] and
// [Unmarshal] give the exact bytes the server and the Go client write and
// read, which is what a test or a tool handling raw payloads needs. To
// sort the keys of every map type, not only map[string]any, the package
// registers a sorting encoder with the MsgPack library for each map type
// it meets; the registration is process-wide.
//
// Structs whose fields are booleans, numbers, strings, []byte, []string
// or such structs, named by msgpack or json tags with at most omitempty,
// go through a plan made once per type instead of the library's general
// reflective path: the same bytes, about three times faster to encode and
// four times faster to decode. A plan decodes only the forms it knows the
// library's answer for and leaves anything else (a nil, an int for a
// float) to the library; it also checks its first values of each type
// against the library and hands back, for good, any type it disagrees on.
// Types with methods of their own for MsgPack or text keep the library's
// path.
//
// Integers are checked against the Go type they are decoded into on every
// path: one that does not fit is a [*RangeError], where the MsgPack library
// alone would truncate it (300 into a uint8 would give 44).
//
// [Unmarshal] checks its input before the MsgPack library sees it:
// declared lengths must fit the data (the library allocates what a length
// claims before reading it) and arrays and maps may nest at most
// [MaxDepth] levels.
//
// The frames that carry payloads ([seq, data, rpc, type, metadata] from
// the client, [seq, data, type, leading, trailing] from the server) are
// read and written by the server and the client themselves; the package
// knows nothing of servers or clients.
package codec
