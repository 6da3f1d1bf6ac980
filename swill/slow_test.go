package swill_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/transport"
)

// Slow readers (see docs/reliability.md). These tests run on every
// transport: scripts/test.sh runs the package again with
// SWILL_TEST_TRANSPORT set.

// firehose is a server stream that sends n items of size bytes as fast
// as the connection takes them, counting them in sent; done, if not nil,
// is closed when the handler returns.
func firehose(sent *atomic.Int64, size int, done chan struct{}) *swill.Handler {
	return swill.ServerStream("firehose", func(ctx context.Context, n int, out chan<- []byte) error {
		if done != nil {
			defer close(done)
		}
		item := make([]byte, size)
		for i := 0; i < n; i++ {
			select {
			case out <- item:
				sent.Add(1)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
}

// waitStalled waits until sent has not moved for a while: the handler
// is blocked at the queue bound (or, on a very loaded machine, not
// scheduled, which the callers' checks tolerate).
func waitStalled(t *testing.T, sent func() int64) int64 {
	t.Helper()
	last, still := sent(), 0
	for deadline := time.Now().Add(30 * time.Second); still < 5; {
		if time.Now().After(deadline) {
			t.Fatalf("the stream never stalled: %d items sent", last)
		}
		// A poll: the stall is a state with no event (the handler waits
		// for queue space while the writer waits for the network), seen
		// as sent not moving for half a second.
		time.Sleep(100 * time.Millisecond)
		if n := sent(); n != last {
			last, still = n, 0
			continue
		}
		still++
	}
	return last
}

// After CANCEL, the frames of the call still queued are dropped: the
// transport is handed at most what it was writing, not the queue. A
// transport wrapper counts the frames of the call written after the
// CANCEL reached the server, to a client that stopped reading so that
// the queue is full when it cancels.
func TestCancelDropsQueuedFrames(t *testing.T) {
	t.Parallel()
	const itemSize = 100
	var sent atomic.Int64
	ctxDone := make(chan struct{})
	count := &countingAcceptor{Acceptor: swilltest.Acceptor(), seq: 1}
	srv := startServer(t, withDemo(firehose(&sent, itemSize, ctxDone)), swill.WithTransport(count), swill.WithLimits(swill.Limits{WriteTimeout: time.Minute}))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}})
	require.NoError(t, err)
	defer conn.CloseNow()
	require.NoError(t, conn.Write(ctx, websocket.MessageBinary, requestFrameMD(t, 1, "firehose", wire.TypeMessage, 1_000_000, nil)))
	queued := waitStalled(t, func() int64 { return sent.Load() })
	require.NoError(t, conn.Write(ctx, websocket.MessageBinary, requestFrameMD(t, 1, "firehose", wire.TypeCancel, nil, nil)))
	require.NoError(t, conn.Write(ctx, websocket.MessageBinary, requestFrameMD(t, 2, "add", wire.TypeMessage, []int{1, 2}, nil)))
	select {
	case <-ctxDone:
	case <-time.After(waitFor):
		t.Fatal("the cancelled handler's context did not end")
	}

	// Read what the network held, up to the answer to the call made
	// after CANCEL; nothing of the stream may follow it.
	received := 0
	for {
		_, b, err := conn.Read(ctx)
		require.NoError(t, err)
		var r wire.Response
		require.NoError(t, wire.ParseResponse(b, &r))
		if r.Seq == 2 {
			break
		}
		require.Equal(t, int64(1), r.Seq)
		received++
	}
	after := count.after.Load()
	// One batch: what a transport holds between flushes.
	oneBatch := int64(64<<10) / (itemSize + 8)
	t.Logf("%d items sent before the stall, %d received after the client stopped reading, %d frames written after CANCEL (one batch is %d)",
		queued, received, after, oneBatch)
	assert.LessOrEqual(t, after, oneBatch, "frames of the cancelled call written after CANCEL")
	assert.Greater(t, count.cancels.Load(), int64(0), "the wrapper saw the CANCEL")
}

// Server memory per slow connection stays within the queue bound: a
// fast stream to a client that reads nothing holds MaxQueueBytes of
// frames, plus one transport batch, however small or large its items.
func TestSlowConnectionMemory(t *testing.T) {
	// Not parallel: it measures the heap.
	for _, size := range []int{20, 2000} {
		t.Run(fmt.Sprintf("%dB", size), func(t *testing.T) { testSlowConnectionMemory(t, size) })
	}
}

func testSlowConnectionMemory(t *testing.T, itemSize int) {
	const conns = 16
	var sent atomic.Int64
	srv := startServer(t, withDemo(firehose(&sent, itemSize, nil)), swill.WithLimits(swill.Limits{WriteTimeout: time.Minute}))
	limit := int64(1 << 20) // the default MaxQueueBytes

	before := liveMemory()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var clients []*websocket.Conn
	for i := 0; i < conns; i++ {
		conn, _, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}})
		require.NoError(t, err)
		defer conn.CloseNow()
		clients = append(clients, conn)
		require.NoError(t, conn.Write(ctx, websocket.MessageBinary, requestFrameMD(t, 1, "firehose", wire.TypeMessage, 1_000_000, nil)))
	}
	items := waitStalled(t, func() int64 { return sent.Load() })
	per := (liveMemory() - before) / conns
	t.Logf("%d connections that read nothing, %d items of %d bytes sent to each: %d KiB of memory each (MaxQueueBytes %d KiB)",
		conns, items/conns, itemSize, per>>10, limit>>10)
	// The queue, one transport batch, and the connection itself (both
	// ends: the clients live in this process too).
	assert.LessOrEqual(t, per, limit+256<<10, "memory per slow connection")
	for _, c := range clients {
		c.CloseNow()
	}
}

// liveMemory returns the heap and stacks in use after a collection that
// also empties the pools.
func liveMemory() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc + m.StackInuse)
}

// countingAcceptor wraps a transport to count the MESSAGE frames of call
// seq written after the server received the call's CANCEL.
type countingAcceptor struct {
	transport.Acceptor
	seq     int64
	cancels atomic.Int64
	after   atomic.Int64
}

func (a *countingAcceptor) Accept(w http.ResponseWriter, r *http.Request, opts *transport.AcceptOptions) (transport.Conn, error) {
	c, err := a.Acceptor.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, a: a}, nil
}

func (a *countingAcceptor) saw(p []byte) {
	if a.cancels.Load() == 0 {
		return
	}
	var r wire.Response
	if wire.ParseResponse(p, &r) == nil && r.Seq == a.seq && r.Type == wire.TypeMessage {
		a.after.Add(1)
	}
}

type countingConn struct {
	transport.Conn
	a *countingAcceptor
}

func (c *countingConn) Start(h transport.Handler) { c.Conn.Start(&countingHandler{Handler: h, a: c.a}) }

func (c *countingConn) WriteMessage(p []byte) error {
	c.a.saw(p)
	return c.Conn.WriteMessage(p)
}

func (c *countingConn) ReleaseReader() { c.Conn.(transport.Releaser).ReleaseReader() }

type countingHandler struct {
	transport.Handler
	a *countingAcceptor
}

func (h *countingHandler) HandleMessage(typ transport.MessageType, data []byte) {
	var f wire.Request
	if wire.ParseRequest(data, &f) == nil && f.Type == wire.TypeCancel && f.Seq == h.a.seq {
		h.a.cancels.Add(1) // before the server sees it: a frame written meanwhile counts
	}
	h.Handler.HandleMessage(typ, data)
}
