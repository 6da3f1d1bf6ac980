// Package transporttest checks that a transport keeps the contract of
// package transport, over real loopback connections.
//
// A transport's test calls [Run] with a [Factory] returning the
// [transport.Acceptor] and [transport.Dialer] under test:
//
//	func TestConformance(t *testing.T) {
//		transporttest.Run(t, func(testing.TB) (transport.Acceptor, transport.Dialer) {
//			return mytransport.Transport{}, mytransport.Transport{}
//		})
//	}
//
// The suite covers delivery (messages of every size class, order,
// batches of writes flushed at once, text and fragmented messages from
// another implementation), the read limit, close codes and reasons in
// both directions, HandleClose exactly once and never concurrently with
// HandleMessage, pings both ways, subprotocol negotiation, origin checks,
// Close racing with writes and peers that vanish. Every subtest fails if
// it leaves a goroutine behind.
//
// [MeasureIdle] reports what an idle connection costs a server, with the
// clients in a child process; packages using it call [ChildMain] from
// TestMain.
package transporttest
