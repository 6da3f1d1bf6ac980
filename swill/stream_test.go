package swill_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// A client-stream handler may return before the client ends its stream.
// The client's remaining items are dropped: they must not open a new
// call with the same (rpc, seq), which would end with a second result.
func TestClientStreamHandlerReturnsEarly(t *testing.T) {
	t.Parallel()
	srv := startServer(t, withDemo(
		swill.ClientStream("first", func(ctx context.Context, in <-chan int) (int, error) {
			return <-in, nil
		}),
		swill.BidiStream("first.bidi", func(ctx context.Context, in <-chan int, out chan<- int) error {
			out <- <-in
			return nil
		}),
	))
	c := dialWire(t, srv)
	c.msg(1, "first", 10)
	r := c.recv()
	assert.Equal(t, int64(10), r.int(t))
	for i := 0; i < 5; i++ {
		c.msg(1, "first", 20+i)
	}
	c.send(1, "first", wire.TypeMetadata, nil, rpc.Metadata{})
	c.end(1, "first")
	c.quiet(100 * time.Millisecond)

	c.msg(2, "first.bidi", 7)
	assert.Equal(t, int64(7), c.recv().int(t))
	assert.Equal(t, wire.TypeEndOfStream, c.recv().Type)
	c.msg(2, "first.bidi", 8)
	c.cancel(2, "first.bidi") // CANCEL ends the client's side too
	c.quiet(100 * time.Millisecond)

	// Once the client has ended its stream, the seq is free again.
	c.msg(1, "first", 30)
	assert.Equal(t, int64(30), c.recv().int(t))
	c.end(1, "first")
	c.msg(2, "first.bidi", 9)
	assert.Equal(t, int64(9), c.recv().int(t))
	assert.Equal(t, wire.TypeEndOfStream, c.recv().Type)
	c.end(2, "first.bidi")
	c.quiet(50 * time.Millisecond)
	c.alive()
}

// A client stream that failed (here: an item the handler rejects) gets
// one ERROR; the items the client sends meanwhile are dropped.
func TestClientStreamFailureDropsRest(t *testing.T) {
	t.Parallel()
	srv := startServer(t, withDemo(
		swill.ClientStream("positive", func(ctx context.Context, in <-chan int) (int, error) {
			total := 0
			for v := range in {
				if v < 0 {
					return 0, rpc.Errorf(rpc.CodeValidation, "negative: %d", v)
				}
				total += v
			}
			return total, nil
		}),
	))
	c := dialWire(t, srv)
	c.msg(1, "positive", 1)
	c.msg(1, "positive", -1)
	e := c.recv().rpcErr(t)
	assert.Equal(t, rpc.CodeValidation, e.Code)
	for i := 0; i < 10; i++ {
		c.msg(1, "positive", i)
	}
	c.end(1, "positive")
	c.quiet(100 * time.Millisecond)
	c.alive()
}

// Calls kept to absorb a client's last items are bounded: they do not
// count against MaxConcurrentCalls, and past that many the oldest is
// forgotten.
func TestOverCallsAreBounded(t *testing.T) {
	t.Parallel()
	srv := startServer(t, withDemo(
		swill.ClientStream("first", func(ctx context.Context, in <-chan int) (int, error) {
			return <-in, nil
		}),
	), swill.WithLimits(swill.Limits{MaxConcurrentCalls: 2}))
	c := dialWire(t, srv)
	for seq := int64(1); seq <= 3; seq++ {
		c.msg(seq, "first", int(seq))
		assert.Equal(t, seq, c.recv().int(t))
	}
	c.alive() // the three ended calls hold no place among the concurrent ones
	c.msg(2, "first", 0)
	c.msg(3, "first", 0)
	c.quiet(50 * time.Millisecond)
	c.msg(1, "first", 100) // the oldest was forgotten: this opens a new call
	r := c.recv()
	assert.Equal(t, int64(1), r.Seq)
	assert.Equal(t, int64(100), r.int(t))
}

// The framework keeps receiving a server stream's items after the call
// ended, so a handler that sends without watching its context is never
// blocked forever.
func TestServerStreamSenderNeverBlocked(t *testing.T) {
	t.Parallel()
	returned := make(chan struct{})
	srv := startServer(t, withDemo(
		swill.ServerStream("flood", func(ctx context.Context, n int, out chan<- int) error {
			defer close(returned)
			for i := 0; i < n; i++ {
				out <- i // no select on ctx.Done()
			}
			return nil
		}),
	))
	c := dialWire(t, srv)
	c.msg(1, "flood", 1_000_000)
	assert.Equal(t, int64(0), c.recv().int(t))
	c.cancel(1, "flood")
	select {
	case <-returned:
	case <-time.After(30 * time.Second):
		t.Fatal("the handler is still blocked sending")
	}
	// Items queued before the server read the CANCEL may still arrive;
	// nothing else does for the call.
	c.msg(2, "add", []int{1, 1})
	for {
		r := c.recv()
		if r.Seq == 2 {
			assert.Equal(t, int64(2), r.int(t))
			break
		}
		require.Equal(t, int64(1), r.Seq)
		require.Equal(t, wire.TypeMessage, r.Type, "no terminal frame after CANCEL")
	}
	c.quiet(50 * time.Millisecond)
}

// A handler may close its out channel before returning.
func TestServerStreamHandlerClosesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := startServer(t, withDemo(
		swill.ServerStream("closes", func(ctx context.Context, n int, out chan<- int) error {
			for i := 0; i < n; i++ {
				out <- i
			}
			close(out)
			select {
			case <-release:
			case <-ctx.Done(): // the test failed
			}
			return swill.CallFromContext(ctx).SetTrailer(rpc.Metadata{"n": n})
		}),
	))
	c := dialWire(t, srv)
	c.msg(1, "closes", 3)
	for i := int64(0); i < 3; i++ {
		assert.Equal(t, i, c.recv().int(t))
	}
	// The handler closes out, then waits for release: a call made now is
	// answered, and the stream gets nothing before.
	c.msg(2, "add", []int{1, 1})
	r := c.recv()
	require.Equal(t, int64(2), r.Seq, "a frame for the stream before its handler returned: % x", r.raw)
	assert.Equal(t, int64(2), r.int(t))
	close(release)
	r = c.recv()
	assert.Equal(t, wire.TypeEndOfStream, r.Type)
	assert.Equal(t, rpc.Metadata{"n": int64(3)}, flat(r.Trailing), "END_OF_STREAM waits for the handler to return")
}

// The framework closes a client stream's in channel when the call ends
// early, so ranging over it always terminates.
func TestClientStreamInClosed(t *testing.T) {
	t.Parallel()
	ranged := make(chan int64, 8)
	srv := startServer(t, withDemo(
		swill.ClientStream("ranger", func(ctx context.Context, in <-chan int) (int, error) {
			for range in { // no select on ctx.Done()
			}
			ranged <- swill.CallFromContext(ctx).Seq()
			return 0, nil
		}),
		swill.BidiStream("ranger.bidi", func(ctx context.Context, in <-chan int, out chan<- int) error {
			for range in {
			}
			ranged <- swill.CallFromContext(ctx).Seq()
			return nil
		}),
	))
	c := dialWire(t, srv)
	c.msg(1, "ranger", 1)
	c.cancel(1, "ranger")
	assert.Equal(t, int64(1), recvSeq(t, ranged, "range over in after CANCEL"))
	c.msg(2, "ranger.bidi", 1)
	c.cancel(2, "ranger.bidi")
	assert.Equal(t, int64(2), recvSeq(t, ranged, "range over in after CANCEL"))

	c.msg(3, "ranger", 1)
	c.msg(4, "ranger.bidi", 1)
	c.alive()
	require.NoError(t, c.conn.CloseNow())
	got := map[int64]bool{recvSeq(t, ranged, "range after connection loss"): true, recvSeq(t, ranged, "range after connection loss"): true}
	assert.Equal(t, map[int64]bool{3: true, 4: true}, got)
}

// Items of a bidirectional call go out while the client is still
// sending, in the order the handler sends them, across a long stream
// sent in one burst. (A burst longer than MaxStreamItems may outrun the
// handler and fail with 429: see TestMaxStreamItems.)
func TestBidiLongStream(t *testing.T) {
	t.Parallel()
	srv := swilltest.StartDemo(t)
	c := dialWire(t, srv)
	const n = 1000
	frames := make([][]byte, 0, n+1)
	enc := wire.GetEncoder()
	for i := 0; i <= n; i++ {
		var b wire.Buffer
		if i < n {
			require.NoError(t, enc.Request(&b, 1, "echo", wire.TypeMessage, i, nil))
		} else {
			require.NoError(t, enc.Request(&b, 1, "echo", wire.TypeEndOfStream, nil, nil))
		}
		frames = append(frames, b.B)
	}
	wire.PutEncoder(enc)
	done := make(chan error, 1)
	go func() {
		for _, f := range frames {
			if err := c.conn.Write(context.Background(), websocket.MessageBinary, f); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := int64(0); i < n; i++ {
		r := c.recv()
		require.Equal(t, wire.TypeMessage, r.Type, "item %d: % x", i, r.raw)
		require.Equal(t, i, r.int(t))
	}
	assert.Equal(t, wire.TypeEndOfStream, c.recv().Type)
	assert.NoError(t, <-done)
}

// A push stream's items come from another goroutine through TrySendRaw;
// its handler's return ends it, and its error is the stream's ERROR.
func TestServerPush(t *testing.T) {
	t.Parallel()
	calls := make(chan *swill.Call, 1)
	srv := startServer(t, withDemo(
		swill.ServerPush[int, int]("push", func(ctx context.Context, n int) error {
			call := swill.CallFromContext(ctx)
			if err := call.SendHeader(nil); err != nil {
				return err
			}
			calls <- call
			<-ctx.Done()
			return nil
		}),
		swill.ServerPush[int, int]("push.fail", func(ctx context.Context, n int) error {
			return rpc.NewError(rpc.CodeForbidden, "no")
		}),
	))
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}})
	require.NoError(t, err)
	defer c.CloseNow()
	send := func(seq int64, name string, typ wire.FrameType) {
		require.NoError(t, c.Write(ctx, websocket.MessageBinary, requestFrame(t, seq, name, typ, 3)))
	}
	read := func() *wire.Response {
		_, b, err := c.Read(ctx)
		require.NoError(t, err)
		var f wire.Response
		require.NoError(t, wire.ParseResponse(b, &f))
		return &f
	}
	send(1, "push", wire.TypeMessage)
	assert.Equal(t, wire.TypeMetadata, read().Type)
	call := <-calls
	for _, v := range []byte{1, 2, 3} {
		require.NoError(t, call.TrySendRaw([]byte{v})) // positive fixints
	}
	for _, v := range []byte{1, 2, 3} {
		f := read()
		assert.Equal(t, wire.TypeMessage, f.Type)
		assert.Equal(t, []byte{v}, []byte(f.Data))
	}
	send(1, "push", wire.TypeCancel)
	send(2, "push.fail", wire.TypeMessage)
	f := read()
	assert.Equal(t, wire.TypeError, f.Type, "nothing more for the cancelled stream; the failing one's ERROR")
	assert.EqualValues(t, 2, f.Seq)
	assert.ErrorIs(t, call.TrySendRaw([]byte{4}), swill.ErrCallEnded)
}
