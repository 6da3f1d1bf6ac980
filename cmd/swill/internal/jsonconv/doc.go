// Package jsonconv converts between JSON, which people and tools write,
// and the values swill carries as MsgPack.
//
// JSON to MsgPack ([Decode]): numbers are read exactly (json.Number), so
// that an integer becomes an int64 (a uint64 above the largest int64) and
// encodes as a MsgPack integer, and any other number a float64. Objects
// become map[string]any and arrays []any. When the call's JSON Schema is
// known, it refines the conversion: a string where the schema says bytes
// ("x-msgpack": "bin") is decoded from base64 and sent as MsgPack bin, a
// string where it says timestamp is parsed as RFC 3339 and sent as the
// MsgPack timestamp extension, a number with an integral value where it
// says integer is sent as an integer (1e3 is 1000), and the keys of a map
// whose keys are not strings ("x-msgpack-key") are converted to that type.
//
// MsgPack to JSON ([ToJSON]): maps whose keys are not all strings get
// their keys written as strings (integers in decimal, booleans and null
// as true, false and null, anything else as its JSON encoding); binary
// data ([]byte) becomes a base64 string (standard alphabet, padded);
// times become RFC 3339 strings in UTC; NaN and the infinities, which JSON
// cannot write, become the strings "NaN", "Infinity" and "-Infinity".
package jsonconv
