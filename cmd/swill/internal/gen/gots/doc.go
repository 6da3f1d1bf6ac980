// Package gots writes a typed TypeScript client of a swill service from
// its description, on top of the TypeScript client package: an interface
// for every named type, a Service schema that types a SwillClient, and
// one function per call.
//
// JSON Schema maps to TypeScript as follows: integer and number are
// number, string string, boolean boolean, null null; bytes ("x-msgpack":
// "bin") are Uint8Array and timestamps Date, as the MsgPack decoder gives
// them; an array is T[], a tuple [A, B]; a map Record<string, V> (or
// Record<number, V> when its keys are numbers); a reference to a
// definition is the interface generated for it and an unnamed object an
// object type; alternatives are unions, an enum a union of literals; the
// empty schema is unknown.
package gots
