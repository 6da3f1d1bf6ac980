// Package rawws is the baseline of the benchmark suite: hand-written code
// on github.com/coder/websocket with no framework. Every message is one
// binary WebSocket message holding a MsgPack array:
//
//	[seq, payload]         a call, and its reply
//	[seq, payload, count]  a request for count stream items
//
// Stream items come back as [seq, item]; the client knows how many to
// expect. The server handles each message inside its read loop; the client
// matches replies to calls with a map of pending sequence numbers.
package rawws
