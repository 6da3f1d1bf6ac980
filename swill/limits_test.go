package swill_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/transport"
)

// fakeConn is a transport.Conn played by the test: the test delivers
// frames with deliver, the server's writes are counted (and kept when
// keep is set), and Flush can be held until the test releases it.
type fakeConn struct {
	h       transport.Handler
	keep    bool
	written chan struct{} // one value per message written, when not nil
	hold    chan struct{} // Flush, and a write past fakeBatch, wait for it to close, when not nil
	holding chan struct{} // closed when a write or Flush first waits on hold
	pending int           // bytes written since the last Flush; the writer's

	mu          sync.Mutex
	frames      [][]byte
	holdingOnce sync.Once
	closeOnce   sync.Once
	closed      chan struct{}
	closeCode   transport.StatusCode
}

func newFakeConn() *fakeConn {
	return &fakeConn{holding: make(chan struct{}), closed: make(chan struct{})}
}

func (f *fakeConn) Start(h transport.Handler) { f.h = h }

// deliver hands one binary frame to the server, as a transport's read
// loop would.
func (f *fakeConn) deliver(b []byte) { f.h.HandleMessage(transport.Binary, b) }

// fakeBatch is how much a fakeConn holds before a write goes through to
// the network, as the real transports' batches do: with hold set, such a
// write waits like Flush.
const fakeBatch = 64 << 10

func (f *fakeConn) WriteMessage(p []byte) error {
	if f.hold != nil {
		if f.pending += len(p); f.pending > fakeBatch {
			f.stall()
		}
	}
	if f.keep {
		f.mu.Lock()
		f.frames = append(f.frames, bytes.Clone(p))
		f.mu.Unlock()
	}
	if f.written != nil {
		f.written <- struct{}{}
	}
	return nil
}

func (f *fakeConn) Flush() error {
	if f.hold != nil {
		f.stall()
		f.pending = 0
	}
	return nil
}

// stall waits for hold, as a write to a network that takes nothing.
func (f *fakeConn) stall() {
	f.holdingOnce.Do(func() { close(f.holding) })
	<-f.hold
}

func (f *fakeConn) Ping(ctx context.Context) error { return nil }

// Close ends the connection as a transport would: HandleClose follows,
// from the transport's own goroutine.
func (f *fakeConn) Close(code transport.StatusCode, reason string) error {
	f.closeOnce.Do(func() {
		f.closeCode = code
		close(f.closed)
		go f.h.HandleClose(transport.ErrClosed)
	})
	return nil
}

func (f *fakeConn) Subprotocol() string { return rpc.Subprotocol }

func (f *fakeConn) received() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.frames...)
}

// shutdownNow stops srv, failing the test if it takes longer than waitFor.
func shutdownNow(tb testing.TB, srv *swill.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	srv.Shutdown(ctx)
}

// A frame larger than MaxFrameSize closes the connection with 1009;
// one of exactly the limit is served.
func TestFrameTooBig(t *testing.T) {
	t.Parallel()
	const limit = 1024
	srv := startServer(t, withDemo(swill.Unary("len", func(ctx context.Context, s string) (int, error) { return len(s), nil })),
		swill.WithLimits(swill.Limits{MaxFrameSize: limit}))
	bystander := dialWire(t, srv)
	c := dialWire(t, srv)
	fits := limit
	var frame []byte
	for frame = nil; len(frame) != limit; fits-- {
		frame = requestFrameMD(t, 1, "len", wire.TypeMessage, strings.Repeat("a", fits), nil)
	}
	fits++
	c.sendRaw(frame)
	assert.Equal(t, int64(fits), c.recv().int(t))

	c.sendRaw(requestFrameMD(t, 2, "len", wire.TypeMessage, strings.Repeat("a", fits+1), nil))
	assert.Equal(t, websocket.StatusMessageTooBig, c.closed())
	bystander.alive()
}

// Past MaxConcurrentCalls, a new call gets ERROR 429; the running ones
// are not affected, and once they end new calls are served again.
func TestMaxConcurrentCalls(t *testing.T) {
	t.Parallel()
	g := newGate()
	srv := startServer(t, withDemo(gateHandlers(g)...), swill.WithLimits(swill.Limits{MaxConcurrentCalls: 4}))
	c := dialWire(t, srv)
	for i, name := range []string{"g.unary", "g.server", "g.client", "g.bidi"} {
		c.msg(int64(i), name, i)
		g.waitStarted(t)
	}
	assert.Equal(t, int64(1), c.recv().int(t), "g.server's item")

	c.msg(10, "add", []int{1, 2})
	r := c.recv()
	assert.Equal(t, int64(10), r.Seq)
	e := r.rpcErr(t)
	assert.Equal(t, rpc.CodeTooManyRequests, e.Code)
	assert.Contains(t, e.Message, "limit 4")
	c.send(11, "sum", wire.TypeMetadata, nil, rpc.Metadata{})
	assert.Equal(t, rpc.CodeTooManyRequests, c.recv().rpcErr(t).Code, "a METADATA frame opening a call counts too")

	other := dialWire(t, srv)
	other.alive() // the limit is per connection

	c.end(2, "g.client")
	c.end(3, "g.bidi")
	g.open()
	got := map[int64]wire.FrameType{}
	for range 4 {
		r := c.recv()
		got[r.Seq] = r.Type
	}
	assert.Equal(t, map[int64]wire.FrameType{0: wire.TypeMessage, 1: wire.TypeEndOfStream, 2: wire.TypeMessage, 3: wire.TypeEndOfStream}, got)
	c.alive()
}

// Past MaxStreamItems items waiting for a handler that does not take
// them, the call fails with 429 and its handler is cancelled.
func TestMaxStreamItems(t *testing.T) {
	t.Parallel()
	g := newGate()
	srv := startServer(t, withDemo(gateHandlers(g)...), swill.WithLimits(swill.Limits{MaxStreamItems: 4}))
	c := dialWire(t, srv)
	for _, name := range []string{"g.client", "g.bidi"} {
		seq := int64(len(name))
		for i := 0; i < 4+2; i++ { // the limit, one item in the framework's hands, one too many
			c.msg(seq, name, i)
		}
		g.waitStarted(t)
		r := c.recv()
		assert.Equal(t, seq, r.Seq)
		e := r.rpcErr(t)
		assert.Equal(t, rpc.CodeTooManyRequests, e.Code)
		assert.Contains(t, e.Message, "4 items")
		assert.Equal(t, seq, g.waitCtxDone(t))
		c.msg(seq, name, 99) // dropped: the call is over
		c.end(seq, name)
		c.quiet(50 * time.Millisecond)
	}
	c.alive()
}

// Past MaxQueueBytes of frames waiting to be written, a server stream's
// sends block: a client that does not read cannot make the server hold
// more than about the limit. Once the network drains, every item goes
// out, in order.
//
// The connection is a fakeConn and the test runs in a synctest bubble:
// once synctest.Wait returns, the producer and the writer are blocked
// for good, so what was sent by then is all that will be.
func TestMaxQueueBytes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testMaxQueueBytes)
}

func testMaxQueueBytes(t *testing.T) {
	const (
		itemSize = 16 << 10
		limit    = 64 << 10
		items    = 2000
	)
	var sent atomic.Int64
	srv := swill.NewServer(swill.WithLimits(swill.Limits{MaxQueueBytes: limit}))
	require.NoError(t, srv.Register(swill.ServerStream("big", func(ctx context.Context, n int, out chan<- []byte) error {
		for i := 0; i < n; i++ {
			item := make([]byte, itemSize)
			item[0] = byte(i)
			select {
			case out <- item:
				sent.Add(1)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})))
	fc := newFakeConn()
	fc.keep = true
	fc.hold = make(chan struct{})
	srv.ServeConn(fc, nil)
	defer shutdownNow(t, srv)

	fc.deliver(requestFrameMD(t, 1, "big", wire.TypeMessage, items, nil))
	synctest.Wait() // the writer waits on the network, the producer on the queue
	select {
	case <-fc.holding:
	default:
		t.Fatal("the writer never reached the network")
	}
	blockedAt := sent.Load()
	// The queue, the batch the transport holds, the handler's channel
	// buffer and one item in the framework's hands.
	bound := int64(2*limit/itemSize + 16 + 4)
	assert.LessOrEqual(t, blockedAt, bound, "the producer ran ahead of a stalled network")
	assert.Greater(t, blockedAt, int64(0))

	close(fc.hold)
	synctest.Wait() // every item written, the handler returned
	frames := fc.received()
	require.Len(t, frames, items+1, "every item and END_OF_STREAM")
	for i, f := range frames[:items] {
		var r wire.Response
		require.NoError(t, wire.ParseResponse(f, &r))
		var item []byte
		require.NoError(t, codec.Unmarshal(r.Data, &item))
		require.Equal(t, byte(i), item[0], "item %d out of order", i)
	}
	var r wire.Response
	require.NoError(t, wire.ParseResponse(frames[items], &r))
	assert.Equal(t, wire.TypeEndOfStream, r.Type)
}

// A client that stops reading is disconnected once a write has waited
// WriteTimeout; its handlers are cancelled.
func TestClientThatDoesNotRead(t *testing.T) {
	t.Parallel()
	ctxDone := make(chan struct{})
	gone := make(chan struct{})
	srv := startServer(t, withDemo(swill.ServerStream("firehose", func(ctx context.Context, _ any, out chan<- []byte) error {
		defer close(ctxDone)
		item := make([]byte, 64<<10)
		for {
			select {
			case out <- item:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})), swill.WithLimits(swill.Limits{MaxQueueBytes: 64 << 10, WriteTimeout: 200 * time.Millisecond}),
		swill.WithHooks(swill.Hooks{AfterConnection: func(context.Context, *swill.Conn, error) { close(gone) }}))

	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}})
	require.NoError(t, err)
	defer conn.CloseNow()
	require.NoError(t, conn.Write(ctx, websocket.MessageBinary, requestFrameMD(t, 1, "firehose", wire.TypeMessage, nil, nil)))
	// The client never reads: the socket buffers fill, then the queue.
	select {
	case <-ctxDone:
	case <-time.After(30 * time.Second):
		t.Fatal("the handler of a client that does not read was not cancelled")
	}
	select {
	case <-gone:
	case <-time.After(30 * time.Second):
		t.Fatal("the connection of a client that does not read was not closed")
	}
}

// Keepalive pings a quiet connection and closes it when the pong does
// not come; a client that answers stays connected, also when it has been
// idle longer than the write timeout.
func TestKeepalive(t *testing.T) {
	t.Parallel()
	gone := make(chan string, 2)
	srv := startServer(t, withDemo(), swill.WithLimits(swill.Limits{
		PingInterval: 40 * time.Millisecond,
		PingTimeout:  time.Second,
		WriteTimeout: 20 * time.Millisecond,
	}), swill.WithHooks(swill.Hooks{AfterConnection: func(ctx context.Context, conn *swill.Conn, err error) {
		gone <- conn.Request().URL.Query().Get("who")
	}}))

	pings := make(chan struct{}, 1024)
	answering := dialWireWith(t, srv.URL, dialOptions{query: "?who=answering", onPing: func() {
		select {
		case pings <- struct{}{}:
		default:
		}
	}})
	answering.alive()

	// This client never reads, so it never answers a ping.
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	silent, _, err := websocket.Dial(ctx, srv.URL+"?who=silent", &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}})
	require.NoError(t, err)
	defer silent.CloseNow()

	select {
	case who := <-gone:
		assert.Equal(t, "silent", who)
	case <-time.After(waitFor):
		t.Fatal("the silent connection was not closed")
	}
	// Several more pings, each sent after longer than the write timeout
	// without traffic, all answered.
	for len(pings) > 0 {
		<-pings
	}
	for i := range 4 {
		select {
		case <-pings:
		case who := <-gone:
			t.Fatalf("%s closed after %d more pings", who, i)
		case <-time.After(waitFor):
			t.Fatalf("%d pings after the silent connection was closed, want 4", i)
		}
	}
	answering.alive()
	assert.Empty(t, gone)
}

// Keepalive pings racing with connections that close must not start a
// ping goroutine while the connection waits for its goroutines (the race
// detector, and sync.WaitGroup itself, catch that).
func TestKeepaliveWhileClosing(t *testing.T) {
	t.Parallel()
	srv := startServer(t, withDemo(), swill.WithLimits(swill.Limits{PingInterval: time.Millisecond, PingTimeout: time.Millisecond}))
	for i := 0; i < 100; i++ {
		c := dialWire(t, srv)
		time.Sleep(time.Duration(i%4) * time.Millisecond) // real time: the close lands at varying points among the 1ms pings
		c.conn.CloseNow()
		<-c.done
	}
}

// IdleTimeout closes a connection with no call and no traffic; a
// connection with a call running is kept.
func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	g := newGate()
	srv := startServer(t, withDemo(gateHandlers(g)...), swill.WithLimits(swill.Limits{
		PingInterval: 20 * time.Millisecond,
		IdleTimeout:  100 * time.Millisecond,
	}))
	busy := dialWire(t, srv)
	busy.msg(1, "g.unary", 5)
	g.waitStarted(t)
	idle := dialWire(t, srv)
	assert.Equal(t, websocket.StatusNormalClosure, idle.closed())
	var ce websocket.CloseError
	require.ErrorAs(t, idle.err, &ce)
	assert.Equal(t, "idle timeout", ce.Reason)
	// The keepalive pass that closed idle also found busy past the idle
	// timeout since its last frame, which came before idle was opened.
	// Passes run one after the other, so once a connection opened after
	// that pass is closed too, the pass has looked at busy while its call
	// ran.
	later := dialWire(t, srv)
	assert.Equal(t, websocket.StatusNormalClosure, later.closed())
	g.open()
	assert.Equal(t, int64(5), busy.recv().int(t))
	busy.alive() // the call just ended: not idle
}

func TestDefaultLimits(t *testing.T) {
	t.Parallel()
	// A frame just under the default 1 MiB limit is served.
	srv := startServer(t, withDemo(swill.Unary("len", func(ctx context.Context, s string) (int, error) { return len(s), nil })))
	c := dialWire(t, srv)
	c.msg(1, "len", strings.Repeat("a", 1<<20-64))
	assert.Equal(t, int64(1<<20-64), c.recv().int(t))
	c.msg(2, "len", strings.Repeat("a", 1<<20))
	assert.Equal(t, websocket.StatusMessageTooBig, c.closed())

	// 256 concurrent calls by default.
	g := newGate()
	srv = startServer(t, withDemo(gateHandlers(g)...))
	c = dialWire(t, srv)
	for i := 0; i < 256; i++ {
		c.msg(int64(i), "g.unary", i)
	}
	for i := 0; i < 256; i++ {
		g.waitStarted(t)
	}
	c.msg(256, "g.unary", 0)
	assert.Equal(t, rpc.CodeTooManyRequests, c.recv().rpcErr(t).Code)
	g.open()
	for i := 0; i < 256; i++ {
		c.recv()
	}
}

// CallsPerSecond lets a connection open CallBurst calls at once, then
// answers ERROR 429 with a retry hint until the bucket refills; the
// connection stays open and other connections have buckets of their own.
func TestCallsPerSecond(t *testing.T) {
	t.Parallel()
	const rate, burst = 2, 5 // a slow refill: sending the calls takes far less than 500ms
	srv := startServer(t, withDemo(), swill.WithLimits(swill.Limits{CallsPerSecond: rate, CallBurst: burst}))
	c := dialWire(t, srv)
	for i := range burst + 3 {
		c.msg(int64(i), "add", []int{i, 1})
	}
	var hints []int64
	ok := 0
	for range burst + 3 {
		r := c.recv()
		if r.Type == wire.TypeMessage {
			ok++
			continue
		}
		e := r.rpcErr(t)
		assert.Equal(t, rpc.CodeTooManyRequests, e.Code)
		assert.Contains(t, e.Message, "limit 2 per second")
		ms, found := r.Trailing[rpc.RetryAfterKey]
		require.True(t, found, "ERROR 429 without %s: % x", rpc.RetryAfterKey, r.raw)
		hints = append(hints, num(ms).(int64))
	}
	assert.Equal(t, burst, ok, "the burst is served")
	require.Len(t, hints, 3)
	for _, ms := range hints {
		assert.Greater(t, ms, int64(0))
		assert.LessOrEqual(t, ms, int64(1000/rate), "one call's worth of refill at most")
	}
	other := dialWire(t, srv)
	other.alive() // a bucket of its own

	// real time: the bucket refills with the clock; waiting what the hint
	// says is what a client does.
	time.Sleep(time.Duration(hints[len(hints)-1]) * time.Millisecond)
	c.alive() // the hint was enough
}

// rpc.RetryAfter reads the hint from the error's metadata, as clients
// decode it from the ERROR frame.
func TestRetryAfterMetadata(t *testing.T) {
	t.Parallel()
	b := wire.GetBuffer()
	defer wire.PutBuffer(b)
	enc := wire.GetEncoder()
	enc.Error(b, 7, rpc.NewError(rpc.CodeTooManyRequests, "slow down").WithMetadata(rpc.Metadata{rpc.RetryAfterKey: 250}))
	wire.PutEncoder(enc)
	var r wire.Response
	require.NoError(t, wire.ParseResponse(b.B, &r))
	assert.Equal(t, wire.TypeError, r.Type)
	e, err := wire.DecodeError(r.Data)
	require.NoError(t, err)
	e.Metadata = r.Trailing
	d, ok := rpc.RetryAfter(e)
	assert.True(t, ok)
	assert.Equal(t, 250*time.Millisecond, d)
	_, ok = rpc.RetryAfter(rpc.NewError(rpc.CodeTooManyRequests, "no hint"))
	assert.False(t, ok)
}
