package swill_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/transport"
)

// CANCEL cancels the handler's context at once, for every kind of call,
// and nothing more is sent for the call.
func TestCancel(t *testing.T) {
	t.Parallel()
	g := newGate()
	srv := startServer(t, withDemo(gateHandlers(g)...))
	c := dialWire(t, srv)
	for i, name := range []string{"g.unary", "g.server", "g.client", "g.bidi"} {
		seq := int64(i + 1)
		c.msg(seq, name, 7)
		assert.Equal(t, seq, g.waitStarted(t))
		if name == "g.server" {
			assert.Equal(t, int64(7), c.recv().int(t), "the item sent before CANCEL")
		}
		c.cancel(seq, name)
		assert.Equal(t, seq, g.waitCtxDone(t), "%s: the handler sees its context end", name)
	}
	c.quiet(100 * time.Millisecond) // no END_OF_STREAM, no ERROR, no result
	c.alive()

	// The same (rpc, seq) can be used again once the call is over.
	c.msg(1, "g.unary", 8)
	g.waitStarted(t)
	c.cancel(1, "g.unary")
	g.waitCtxDone(t)
	c.quiet(50 * time.Millisecond)
}

// A handler that ignores its context and returns a result after CANCEL
// still sends nothing.
func TestNothingAfterCancel(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}, 1), make(chan struct{})
	srv := startServer(t, withDemo(
		swill.Unary("stubborn", func(ctx context.Context, n int) (int, error) {
			started <- struct{}{}
			<-release
			return n, nil
		}),
		swill.ServerStream("stubborn.stream", func(ctx context.Context, n int, out chan<- int) error {
			started <- struct{}{}
			<-release
			for i := 0; i < n; i++ {
				out <- i
			}
			return nil
		}),
	))
	c := dialWire(t, srv)
	c.msg(1, "stubborn", 1)
	c.msg(2, "stubborn.stream", 100)
	<-started
	<-started
	c.cancel(1, "stubborn")
	c.cancel(2, "stubborn.stream")
	c.alive() // the CANCELs have been read
	close(release)
	c.quiet(200 * time.Millisecond)
	c.alive()
}

// CANCEL or END_OF_STREAM for a call that is not open is ignored, and
// CANCEL names its call by (rpc, seq): a call of another rpc with the same
// seq is not touched.
func TestControlFramesForOtherCalls(t *testing.T) {
	t.Parallel()
	g := newGate()
	srv := startServer(t, withDemo(gateHandlers(g)...))
	c := dialWire(t, srv)
	c.cancel(1, "add")
	c.end(1, "sum")
	c.cancel(1, "nope")
	c.quiet(50 * time.Millisecond)

	c.msg(5, "g.unary", 1)
	c.msg(5, "g.client", 2)
	g.waitStarted(t)
	g.waitStarted(t)
	c.cancel(5, "g.client")
	g.waitCtxDone(t)
	c.cancel(5, "g.unary.other")
	g.open()
	r := c.recv()
	assert.Equal(t, int64(5), r.Seq)
	assert.Equal(t, int64(1), r.int(t), "the unary call of seq 5 was not cancelled")
	c.quiet(50 * time.Millisecond)
}

// A call is over for the client once its terminal frame arrives (or once
// it sent CANCEL): the same (rpc, seq) may be used again at once, even
// while the old handler is still returning.
func TestSeqReuse(t *testing.T) {
	t.Parallel()
	g := newGate()
	srv := startServer(t, withDemo(gateHandlers(g)...))
	c := dialWire(t, srv)
	for i := 0; i < 200; i++ {
		c.msg(1, "add", []int{i, 1})
		r := c.recv()
		require.Equal(t, int64(i+1), r.int(t), "round %d", i)
	}
	for i := 0; i < 100; i++ {
		c.msg(2, "fail", map[string]any{"code": 409, "message": "again"})
		require.Equal(t, rpc.Code(409), c.recv().rpcErr(t).Code, "round %d", i)
		c.msg(3, "countdown", 1)
		require.Equal(t, int64(1), c.recv().int(t))
		require.Equal(t, wire.TypeEndOfStream, c.recv().Type, "round %d", i)
		c.msg(4, "sum", 5)
		c.end(4, "sum")
		require.Equal(t, int64(5), c.recv().int(t), "round %d", i)
	}
	for i := 0; i < 20; i++ {
		c.msg(5, "g.unary", 1)
		g.waitStarted(t)
		c.cancel(5, "g.unary")
		c.msg(5, "g.unary", 2) // a new call, not a second MESSAGE
		g.waitStarted(t)
		g.waitCtxDone(t)
		c.cancel(5, "g.unary")
		g.waitCtxDone(t)
	}
	c.quiet(50 * time.Millisecond)
}

// When the client goes away, every running handler is cancelled, and the
// connection is forgotten once they have all returned.
func TestConnectionLossCancelsHandlers(t *testing.T) {
	t.Parallel()
	g := newGate()
	gone := make(chan int, 1)
	var mu sync.Mutex
	ended := 0
	srv := startServer(t, withDemo(gateHandlers(g)...), swill.WithHooks(swill.Hooks{
		AfterRequest: func(ctx context.Context, call *swill.Call, out swill.Outcome) {
			mu.Lock()
			ended++
			mu.Unlock()
		},
		AfterConnection: func(ctx context.Context, conn *swill.Conn, err error) {
			mu.Lock()
			defer mu.Unlock()
			gone <- ended
		},
	}))
	c := dialWire(t, srv)
	names := []string{"g.unary", "g.server", "g.client", "g.bidi"}
	for i, name := range names {
		c.msg(int64(i), name, i)
	}
	for range names {
		g.waitStarted(t)
	}
	c.recv() // g.server's item
	require.NoError(t, c.conn.CloseNow())
	done := map[int64]bool{}
	for range names {
		done[g.waitCtxDone(t)] = true
	}
	assert.Len(t, done, len(names))
	select {
	case n := <-gone:
		assert.Equal(t, len(names), n, "the connection is forgotten after its calls ended")
	case <-time.After(waitFor):
		t.Fatal("AfterConnection did not run")
	}
}

// 100 calls run at once on one connection and their replies go out in
// the order they complete: a slow call never holds back the others.
func TestInterleaving100Calls(t *testing.T) {
	t.Parallel()
	const n = 100
	var mu sync.Mutex
	release := map[int64]chan struct{}{}
	gateOf := func(seq int64) chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		if release[seq] == nil {
			release[seq] = make(chan struct{})
		}
		return release[seq]
	}
	started := make(chan int64, n)
	srv := startServer(t, withDemo(
		swill.Unary("hold", func(ctx context.Context, v int64) (int64, error) {
			seq := swill.CallFromContext(ctx).Seq()
			started <- seq
			select {
			case <-gateOf(seq):
				return v * 2, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}),
		swill.ServerStream("hold.stream", func(ctx context.Context, v int64, out chan<- int64) error {
			seq := swill.CallFromContext(ctx).Seq()
			started <- seq
			select {
			case <-gateOf(seq):
				out <- v * 2
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}),
	))
	c := dialWire(t, srv)
	for seq := int64(0); seq < n; seq++ {
		if seq%10 == 0 {
			c.msg(seq, "hold.stream", seq)
		} else {
			c.msg(seq, "hold", seq)
		}
	}
	running := map[int64]bool{}
	for range n {
		running[recvSeq(t, started, "call start")] = true
	}
	assert.Len(t, running, n, "all 100 handlers run at once")

	c.alive() // a fast call completes while 100 slow ones are pending

	for _, i := range rand.Perm(n) {
		seq := int64(i)
		close(gateOf(seq))
		r := c.recv()
		require.Equal(t, seq, r.Seq, "the call released last-but-none is the one that replies")
		assert.Equal(t, wire.TypeMessage, r.Type)
		assert.Equal(t, 2*seq, r.int(t))
		if seq%10 == 0 {
			r = c.recv()
			require.Equal(t, seq, r.Seq)
			assert.Equal(t, wire.TypeEndOfStream, r.Type)
		}
	}
	c.quiet(50 * time.Millisecond)
}

// Calls on different connections with the same (rpc, seq) are
// independent: the call table is per connection.
func TestCallsArePerConnection(t *testing.T) {
	t.Parallel()
	g := newGate()
	srv := startServer(t, withDemo(gateHandlers(g)...))
	a, b := dialWire(t, srv), dialWire(t, srv)
	a.msg(1, "g.unary", 10)
	g.waitStarted(t)
	b.msg(1, "sum", 5)
	b.cancel(1, "g.unary") // B's CANCEL does not reach A's call
	b.end(1, "sum")
	assert.Equal(t, int64(5), b.recv().int(t))
	g.open()
	r := a.recv()
	assert.Equal(t, int64(10), r.int(t))
}

type headerErrors struct {
	Again     string `msgpack:"again"`
	SetAfter  string `msgpack:"set_after"`
	TrailerOK bool   `msgpack:"trailer_ok"`
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func metadataHandlers(calls chan *swill.Call) []*swill.Handler {
	return []*swill.Handler{
		// Leading metadata sent alone at once, then the result with the
		// trailing metadata; leading metadata goes out at most once.
		swill.Unary("md.alone", func(ctx context.Context, _ any) (headerErrors, error) {
			call := swill.CallFromContext(ctx)
			if err := call.SendHeader(rpc.Metadata{"a": 1}); err != nil {
				return headerErrors{}, err
			}
			var out headerErrors
			out.Again = errString(call.SendHeader(rpc.Metadata{"b": 2}))
			out.SetAfter = errString(call.SetHeader(rpc.Metadata{"c": 3}))
			out.TrailerOK = call.SetTrailer(rpc.Metadata{"t": 1}) == nil
			return out, nil
		}),
		// Leading metadata set twice (merged) goes with the result.
		swill.Unary("md.with", func(ctx context.Context, _ any) (int, error) {
			call := swill.CallFromContext(ctx)
			if err := errors.Join(call.SetHeader(rpc.Metadata{"a": 1}), call.SetHeader(rpc.Metadata{"b": 2, "a": 3}),
				call.SetTrailer(rpc.Metadata{"t": 1}), call.SetTrailer(rpc.Metadata{"u": 2})); err != nil {
				return 0, err
			}
			calls <- call
			return 5, nil
		}),
		swill.Unary("md.none", func(ctx context.Context, _ any) (int, error) { return 5, nil }),
		// Leading metadata with the first stream item only, trailing
		// metadata with END_OF_STREAM.
		swill.ServerStream("md.stream", func(ctx context.Context, n int, out chan<- int) error {
			call := swill.CallFromContext(ctx)
			if err := call.SetHeader(rpc.Metadata{"h": 1}); err != nil {
				return err
			}
			for i := 0; i < n; i++ {
				out <- i
			}
			return call.SetTrailer(rpc.Metadata{"t": 2})
		}),
		swill.BidiStream("md.bidi", func(ctx context.Context, in <-chan int, out chan<- int) error {
			call := swill.CallFromContext(ctx)
			if err := call.SetHeader(rpc.Metadata{"h": 1}); err != nil {
				return err
			}
			for v := range in {
				out <- v
			}
			return call.SetTrailer(rpc.Metadata{"t": 2})
		}),
		swill.ClientStream("md.client", func(ctx context.Context, in <-chan int) (int, error) {
			call := swill.CallFromContext(ctx)
			if err := errors.Join(call.SendHeader(nil), call.SetTrailer(rpc.Metadata{"t": 3})); err != nil {
				return 0, err
			}
			total := 0
			for v := range in {
				total += v
			}
			return total, nil
		}),
		// The request metadata, seen from each kind of call.
		swill.Unary("md.echo.u", func(ctx context.Context, _ any) (rpc.Metadata, error) {
			return swill.CallFromContext(ctx).Metadata(), nil
		}),
		swill.ServerStream("md.echo.s", func(ctx context.Context, _ any, out chan<- rpc.Metadata) error {
			out <- swill.CallFromContext(ctx).Metadata()
			return nil
		}),
		swill.ClientStream("md.echo.c", func(ctx context.Context, in <-chan int) ([]any, error) {
			items := []any{}
			for v := range in {
				items = append(items, v)
			}
			return []any{swill.CallFromContext(ctx).Metadata(), items}, nil
		}),
		swill.BidiStream("md.echo.b", func(ctx context.Context, in <-chan int, out chan<- any) error {
			out <- swill.CallFromContext(ctx).Metadata()
			for v := range in {
				out <- v
			}
			return nil
		}),
	}
}

func TestLeadingMetadataAlone(t *testing.T) {
	t.Parallel()
	srv := startServer(t, withDemo(metadataHandlers(make(chan *swill.Call, 8))...))
	c := dialWire(t, srv)
	c.msg(1, "md.alone", nil)
	r := c.recv()
	assert.Equal(t, "9501c00281a16101c0", hexString(r.raw), "[seq, nil, METADATA, {a: 1}, nil]")
	r = c.recv()
	assert.Equal(t, wire.TypeMessage, r.Type)
	assert.Nil(t, r.Leading, "leading metadata is not repeated")
	assert.Equal(t, rpc.Metadata{"t": int64(1)}, flat(r.Trailing))
	var got headerErrors
	require.NoError(t, codec.Unmarshal(r.Data, &got))
	assert.Equal(t, swill.ErrHeaderSent.Error(), got.Again)
	assert.Equal(t, swill.ErrHeaderSent.Error(), got.SetAfter)
	assert.True(t, got.TrailerOK)

	// The demo's lead: METADATA first, then the items, then END_OF_STREAM.
	c.msg(2, "lead", 2)
	r = c.recv()
	assert.Equal(t, wire.TypeMetadata, r.Type)
	assert.Equal(t, rpc.Metadata{"x": "y"}, r.Leading)
	for i := int64(0); i < 2; i++ {
		r = c.recv()
		assert.Equal(t, i, r.int(t))
		assert.Nil(t, r.Leading)
	}
	r = c.recv()
	assert.Equal(t, wire.TypeEndOfStream, r.Type)
	assert.Nil(t, r.Leading)
	assert.Nil(t, r.Trailing)

	// A client stream may send its (empty) leading metadata before any
	// item arrives.
	c.send(3, "md.client", wire.TypeMetadata, nil, rpc.Metadata{})
	r = c.recv()
	assert.Equal(t, "9503c00280c0", hexString(r.raw), "empty leading metadata is a map, not nil")
	c.msg(3, "md.client", 4)
	c.msg(3, "md.client", 5)
	c.end(3, "md.client")
	r = c.recv()
	assert.Equal(t, int64(9), r.int(t))
	assert.Nil(t, r.Leading)
	assert.Equal(t, rpc.Metadata{"t": int64(3)}, flat(r.Trailing))
	c.quiet(50 * time.Millisecond)
}

func TestLeadingMetadataWithResult(t *testing.T) {
	t.Parallel()
	calls := make(chan *swill.Call, 8)
	srv := startServer(t, withDemo(metadataHandlers(calls)...))
	c := dialWire(t, srv)
	c.msg(1, "md.with", nil)
	r := c.recv()
	assert.Equal(t, wire.TypeMessage, r.Type)
	assert.Equal(t, int64(5), r.int(t))
	assert.Equal(t, rpc.Metadata{"a": int64(3), "b": int64(2)}, flat(r.Leading))
	assert.Equal(t, rpc.Metadata{"t": int64(1), "u": int64(2)}, flat(r.Trailing))
	assert.Equal(t, "95010500"+"82a16103a16202"+"82a17401a17502", hexString(r.raw), "keys in a deterministic order")

	// Once the call has ended, its metadata cannot change.
	call := <-calls
	assert.ErrorIs(t, call.SetHeader(rpc.Metadata{"x": 1}), swill.ErrHeaderSent)
	assert.ErrorIs(t, call.SendHeader(rpc.Metadata{"x": 1}), swill.ErrHeaderSent)
	assert.ErrorIs(t, call.SetTrailer(rpc.Metadata{"x": 1}), swill.ErrCallEnded)

	c.msg(2, "md.none", nil)
	assert.Equal(t, "950205"+"00c0c0", hexString(c.recv().raw), "no metadata: nil, nil")

	// The demo's metadata call, with the reference's frame.
	c.send(3, "metadata", wire.TypeMessage, nil, rpc.Metadata{"k": "v"})
	r = c.recv()
	assert.Equal(t, rpc.Metadata{"k": "v"}, rpc.Metadata(r.value(t).(map[string]any)))
	assert.Equal(t, rpc.Metadata{"hello": "world"}, r.Leading)
	assert.Equal(t, rpc.Metadata{"bye": "world"}, r.Trailing)
}

func TestStreamMetadata(t *testing.T) {
	t.Parallel()
	srv := startServer(t, withDemo(metadataHandlers(make(chan *swill.Call, 8))...))
	c := dialWire(t, srv)
	c.msg(1, "md.stream", 3)
	for i := int64(0); i < 3; i++ {
		r := c.recv()
		assert.Equal(t, i, r.int(t))
		if i == 0 {
			assert.Equal(t, rpc.Metadata{"h": int64(1)}, flat(r.Leading), "leading metadata with the first item")
		} else {
			assert.Nil(t, r.Leading, "and only the first")
		}
		assert.Nil(t, r.Trailing)
	}
	r := c.recv()
	assert.Equal(t, wire.TypeEndOfStream, r.Type)
	assert.Nil(t, r.Leading)
	assert.Equal(t, rpc.Metadata{"t": int64(2)}, flat(r.Trailing))

	c.msg(2, "md.stream", 0)
	r = c.recv()
	assert.Equal(t, "9502c001"+"81a16801"+"81a17402", hexString(r.raw), "a stream with no item: END_OF_STREAM carries both")

	c.msg(3, "md.bidi", 7)
	r = c.recv()
	assert.Equal(t, int64(7), r.int(t))
	assert.Equal(t, rpc.Metadata{"h": int64(1)}, flat(r.Leading))
	c.msg(3, "md.bidi", 8)
	r = c.recv()
	assert.Nil(t, r.Leading)
	c.end(3, "md.bidi")
	r = c.recv()
	assert.Equal(t, wire.TypeEndOfStream, r.Type)
	assert.Equal(t, rpc.Metadata{"t": int64(2)}, flat(r.Trailing))
	c.quiet(50 * time.Millisecond)
}

// Request metadata arrives in the first MESSAGE or in a METADATA frame
// before it, for every kind of call.
func TestRequestMetadata(t *testing.T) {
	t.Parallel()
	srv := startServer(t, withDemo(metadataHandlers(make(chan *swill.Call, 8))...))
	c := dialWire(t, srv)
	md := func(r reply) rpc.Metadata {
		t.Helper()
		v, ok := r.value(t).(map[string]any)
		require.True(t, ok, "% x", r.raw)
		return flat(v)
	}

	// Unary: in the MESSAGE, in a METADATA frame, or both (merged).
	c.send(1, "md.echo.u", wire.TypeMessage, nil, rpc.Metadata{"k": "v"})
	assert.Equal(t, rpc.Metadata{"k": "v"}, md(c.recv()))
	c.send(2, "md.echo.u", wire.TypeMetadata, nil, rpc.Metadata{"k": "first"})
	c.quiet(50 * time.Millisecond) // a unary call starts with its MESSAGE
	c.msg(2, "md.echo.u", nil)
	assert.Equal(t, rpc.Metadata{"k": "first"}, md(c.recv()))
	c.send(3, "md.echo.u", wire.TypeMetadata, nil, rpc.Metadata{"a": 1, "b": 1})
	c.send(3, "md.echo.u", wire.TypeMessage, nil, rpc.Metadata{"b": 2})
	assert.Equal(t, rpc.Metadata{"a": int64(1), "b": int64(2)}, md(c.recv()))
	c.msg(4, "md.echo.u", nil)
	assert.Equal(t, rpc.Metadata{}, md(c.recv()), "never nil")

	// Server stream: METADATA first.
	c.send(5, "md.echo.s", wire.TypeMetadata, nil, rpc.Metadata{"s": 1})
	c.msg(5, "md.echo.s", nil)
	assert.Equal(t, rpc.Metadata{"s": int64(1)}, md(c.recv()))
	assert.Equal(t, wire.TypeEndOfStream, c.recv().Type)

	// Client stream: METADATA first, as the reference client sends it,
	// or with the first item.
	c.send(6, "md.echo.c", wire.TypeMetadata, nil, rpc.Metadata{"c": "x"})
	c.msg(6, "md.echo.c", 1)
	c.msg(6, "md.echo.c", 2)
	c.end(6, "md.echo.c")
	r := c.recv()
	var got []any
	require.NoError(t, codec.Unmarshal(r.Data, &got))
	require.Len(t, got, 2)
	assert.Equal(t, map[string]any{"c": "x"}, got[0])
	assert.Equal(t, []any{int64(1), int64(2)}, []any{num(got[1].([]any)[0]), num(got[1].([]any)[1])})
	c.send(7, "md.echo.c", wire.TypeMessage, 1, rpc.Metadata{"c": "y"})
	c.end(7, "md.echo.c")
	got = nil
	require.NoError(t, codec.Unmarshal(c.recv().Data, &got))
	assert.Equal(t, map[string]any{"c": "y"}, got[0])

	// Bidi: the handler runs as soon as METADATA opens the call.
	c.send(8, "md.echo.b", wire.TypeMetadata, nil, rpc.Metadata{"b": true})
	assert.Equal(t, rpc.Metadata{"b": true}, md(c.recv()), "sent before any item")
	c.msg(8, "md.echo.b", 3)
	assert.Equal(t, int64(3), c.recv().int(t))
	c.end(8, "md.echo.b")
	assert.Equal(t, wire.TypeEndOfStream, c.recv().Type)
	c.quiet(50 * time.Millisecond)
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, x := range b {
		out = append(out, digits[x>>4], digits[x&15])
	}
	return string(out)
}

// Conn.Request describes the upgrade request: method, URL, every header
// value, host and remote address, with an empty body; the same request
// every time it is asked for.
func TestConnRequest(t *testing.T) {
	t.Parallel()
	got := make(chan *http.Request, 2)
	srv := startServer(t, withDemo(swill.Unary("req", func(ctx context.Context, _ any) (string, error) {
		conn := swill.ConnFromContext(ctx)
		r := conn.Request()
		got <- r
		got <- conn.Request()
		return conn.RemoteAddr(), nil
	})))
	c := dialWireWith(t, srv.URL, dialOptions{
		header: http.Header{"X-Multi": {"a", "b"}, "Authorization": {"Bearer t"}},
		query:  "?room=7&x=%2F",
	})
	c.msg(1, "req", nil)
	remote, _ := c.recv().value(t).(string)
	r := <-got
	assert.Same(t, r, <-got)
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Equal(t, "/ws", r.URL.Path)
	assert.Equal(t, "room=7&x=%2F", r.URL.RawQuery)
	assert.Equal(t, "/ws?room=7&x=%2F", r.RequestURI)
	assert.Equal(t, []string{"a", "b"}, r.Header["X-Multi"])
	assert.Equal(t, "Bearer t", r.Header.Get("Authorization"))
	assert.Equal(t, "websocket", strings.ToLower(r.Header.Get("Upgrade")))
	assert.Equal(t, strings.TrimPrefix(srv.HTTP.URL, "http://"), r.Host)
	assert.True(t, r.ProtoAtLeast(1, 1))
	assert.Equal(t, "HTTP/1.1", r.Proto)
	assert.Equal(t, http.NoBody, r.Body)
	assert.Equal(t, r.RemoteAddr, remote)
	assert.Contains(t, remote, "127.0.0.1:")
}

// TestConnHidesTransportCallbacks: the callbacks a transport makes
// (HandleMessage, HandleClose) are not methods of Conn, so a
// hook or a handler holding the *Conn cannot call them.
func TestConnHidesTransportCallbacks(t *testing.T) {
	t.Parallel()
	var c any = (*swill.Conn)(nil)
	_, isHandler := c.(transport.Handler)
	assert.False(t, isHandler, "*swill.Conn has HandleMessage and HandleClose")
	_, hasMessage := c.(interface {
		HandleMessage(transport.MessageType, []byte)
	})
	assert.False(t, hasMessage, "*swill.Conn has HandleMessage")
}
