// Package rpc holds what both ends of a swill/1 connection share: the
// error type and its codes, metadata, and the kinds of call.
//
// The server (package swill) and the client (package clientgo) both return
// [*Error] values, so code that inspects errors with [errors.As] or [CodeOf]
// works the same on either side of the wire.
package rpc
