// Package swill serves typed Go functions as RPC calls over WebSocket and
// MsgPack, speaking the swill/1 protocol of the Swill framework, so that
// Swill's existing clients work unchanged.
//
// A handler is an ordinary function of its request and response types:
//
//	srv := swill.NewServer()
//	err := srv.Register(
//		swill.Unary("add", func(ctx context.Context, in [2]int) (int, error) {
//			return in[0] + in[1], nil
//		}),
//	)
//	http.Handle("/ws", srv)
//
// # Kinds of call
//
// [Unary] takes one request and returns one response. [ServerStream]
// sends a stream of responses on a channel; [ClientStream] receives the
// client's stream on a channel and returns one response; [BidiStream] does
// both. The side that sends on a channel closes it: the framework closes
// the channel of the client's items, the handler owns the channel it sends
// on (returning ends the stream). The framework never leaves a handler
// blocked on a stream after the call has ended.
//
// Every handler's context is cancelled when the client sends CANCEL, when
// the connection closes, when its deadline (request metadata
// "swill-timeout-ms") passes and when [Server.Shutdown] gives up waiting.
//
// # Metadata and errors
//
// [CallFromContext] returns the [Call]: the request metadata, and the
// methods that set leading ([Call.SetHeader], [Call.SendHeader]) and
// trailing ([Call.SetTrailer]) metadata. A handler that returns an
// [*rpc.Error] chooses the code, message and data the client sees; any
// other error, or a panic, is an internal error (500) whose details stay in
// the server's log unless [WithDebug] is set.
//
// # Around the handlers
//
// Request messages are validated before the handler runs ([Validator],
// [ValidateMethods]; package validate checks struct tags);
// [Hooks] run code at every stage of a connection and a call;
// [Interceptor]s wrap handlers; the built-in calls swill.introspect and
// swill.describe describe the service. [Limits] bound what a connection
// may cost, and what hostile clients can do (slow frames, floods, call
// rates); set the ReadHeaderTimeout of the [http.Server] the server is
// mounted on, which reads the handshake.
//
// # Concurrency
//
// Calls on a connection run concurrently and answer in the order they
// end. A unary call runs on the goroutine that read its request, when the
// transport can hand its reading over (the default transport, gobwasws
// and epoll do): if it runs for longer than the inline budget
// ([WithInlineBudget], 1ms by default), the connection is read by a new
// goroutine while it finishes, so other calls wait at most about one and
// a half budgets. Streaming calls, and calls on other transports, run on
// pooled worker goroutines.
package swill
