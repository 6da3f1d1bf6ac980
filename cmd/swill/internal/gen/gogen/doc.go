// Package gogen writes a typed Go client of a swill service from its
// description: a Go type for every named type of the service and a
// Client whose methods make each call through package clientgo.
//
// JSON Schema maps to Go as follows: integer is int64, number float64,
// string string, boolean bool, null [codec.None]; bytes ("x-msgpack":
// "bin") are []byte and timestamps time.Time; an array is []T, a tuple
// of one element type [N]T (any other tuple []any); a map is map[K]V; a
// reference to a definition is the Go struct generated for it and an
// unnamed object an unnamed struct; "T or null" is *T, or T itself when T
// can already be nil (slices, maps, any); the empty schema and other
// alternatives are any. Struct fields carry msgpack and json tags with
// the wire name.
package gogen
