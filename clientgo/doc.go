// Package clientgo is the Go client of swill/1 servers: swill-go servers
// and the reference Python Swill.
//
// [Dial] opens a [Client], one WebSocket connection shared by every call
// made on it. Calls are typed functions, one per kind of call:
//
//	c, err := clientgo.Dial(ctx, "ws://127.0.0.1:8080/ws")
//	sum, err := clientgo.Call[[2]int, int](ctx, c, "add", [2]int{1, 2})
//
//	stream, err := clientgo.CallServerStream[int, int](ctx, c, "countdown", 3)
//	for n, err := range stream.All() { ... }
//
//	up, err := clientgo.CallClientStream[int, int](ctx, c, "sum")
//	up.Send(1); up.Send(2)
//	total, err := up.CloseAndReceive()
//
//	echo, err := clientgo.CallBidiStream[string, string](ctx, c, "echo")
//
// Requests and responses are encoded with MsgPack; struct fields are named
// by their msgpack tag, or their json tag when there is none. The examples
// are the quickest way in.
//
// # Metadata
//
// [WithMetadata] adds request metadata to a call. The server's leading and
// trailing metadata are returned through [CaptureHeader] and [CaptureTrailer],
// and by the Header and Trailer methods of the stream types.
//
// # Errors
//
// A call the server failed returns an [*rpc.Error], the type the server's
// handlers return, decoded from the ERROR frame: errors.As gives its Code,
// Message and Data, and [rpc.IsWireError] is true. The Data of a
// validation error ([rpc.CodeValidation]) is the per-field report, a
// map[string]any keyed by field name.
//
// Errors that did not come from the server are never *rpc.Error values:
// [ErrConnectionLost] (wrapping the transport's error) for calls open when
// the connection broke, [ErrClosed] after [Client.Close], [ErrStreamClosed]
// after a stream's Close, [ErrSlowConsumer] for a stream whose reader fell
// too far behind, ctx.Err() for a cancelled call, and plain errors for
// requests or responses that do not encode or decode.
//
// A stream's Recv returns [io.EOF] only when the server ended the stream
// normally (END_OF_STREAM). None of the errors above is or wraps io.EOF,
// so reading until io.EOF never takes a stream cut short by a lost
// connection, a shutdown or a cancel for a complete one.
//
// # Cancellation and deadlines
//
// A call's context is its only control. When it ends, the client sends
// CANCEL to the server, which cancels the handler's context, and the call
// returns ctx.Err() at once. A context deadline is also sent as the request
// metadata [rpc.TimeoutKey] ("swill-timeout-ms", the milliseconds left,
// rounded up): swill-go servers give the handler a context with the same
// deadline. When the server's 408 for that deadline arrives before the
// client's own timer fires, the call still returns
// [context.DeadlineExceeded].
//
// # Connection loss and reconnection
//
// When the connection breaks, every open call fails at once with
// [ErrConnectionLost]; none is retried, since the client cannot know
// whether the server ran it. The client then reconnects in the background
// with exponential backoff and jitter ([ReconnectPolicy], [WithReconnect],
// [WithoutReconnect]). Calls made meanwhile wait for the new connection or
// for their context to end. [Client.State], [Client.WaitForStateChange]
// and [WithStateHook] tell the application when the connection goes down
// and comes back, for instance to reopen its streams. A keepalive ping
// ([WithKeepalive]) finds connections that died silently.
//
// # Publish/subscribe
//
// Against a server that mounts package pubsub's Hub, [Subscribe] and
// [SubscribePattern] return a [Subscription] of typed [Message] values
// (publications, joins and leaves), and [Inbox] the channels the server
// subscribed the connection to itself. A subscription comes back by itself
// after a lost connection and after the server's 429 or 503, recovering
// what it missed from the channel's history, or saying once that it could
// not with [ErrUnrecovered]. [Publish], [Presence] and [History] are the
// other built-in calls.
//
// # Backpressure
//
// Each response stream (server or bidirectional) buffers the messages its
// consumer has not received yet, at most 1024 messages and 8 MiB by
// default ([WithStreamBuffer]), so memory stays bounded whatever the server
// sends. When a stream's buffer is full, the client stops reading the
// connection until that consumer takes a message: through TCP the server
// is slowed to the consumer's pace, and a fast stream reaches a consumer
// that keeps taking messages whole, however long it is. Meanwhile every
// other call on the connection waits too, so a consumer that stops
// receiving may not hold the connection for long: once the consumer of a
// full stream has taken nothing for a second ([WithSlowConsumerTimeout];
// a negative timeout cancels at once instead of waiting), the stream is
// cancelled on the server and ends with [ErrSlowConsumer]. Every message
// taken restarts the count, so a consumer that keeps taking messages,
// however slowly, is never cut off; but a slow one sets the pace of the
// whole connection while its buffer is full. A consumer that calls the
// server between two receives while its stream is full gets
// ErrSlowConsumer rather than a deadlock; use a second [Client] for such
// calls or for slow streams, or a larger buffer.
//
// In the other direction, Send on a stream waits while more than 1 MiB is
// queued for the network.
//
// # Goroutines
//
// A connected client has one goroutine, the transport's reader; a writer
// runs only while frames are waiting to go out, and a reconnection
// goroutine only while the client is reconnecting. [Client.Close] waits
// for all of them. While several calls are open, the writer gathers their
// frames into as few system calls as it can; a call made while no other
// is open writes its request from its own goroutine, which then does not
// watch the call's context until the transport has taken the request
// (at worst until the transport's write timeout, when the server has
// stopped reading).
package clientgo
