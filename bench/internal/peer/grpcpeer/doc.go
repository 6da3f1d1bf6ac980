// Package grpcpeer is gRPC-go as a peer of the benchmark suite, with
// MsgPack instead of Protocol Buffers: a codec registered with
// [encoding.RegisterCodec] and a service descriptor written by hand, so no
// code is generated.
//
// It registers two peers that share one server: "grpc", where every call
// is a gRPC unary call, and "grpc-pipe", where every call is one message on
// a long-lived bidirectional stream, matched to its reply by a sequence
// number (a common way to go around gRPC's per-call cost).
package grpcpeer
