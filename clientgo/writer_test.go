package clientgo_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/transport"
)

// watchedDialer dials with the default transport and watches how the
// client writes: whether two writes ever overlap, whether the reader
// ever writes, and how many frames each flush carries.
type watchedDialer struct{ w *writeWatch }

type writeWatch struct {
	// countOnly skips the checks that cost time (finding the goroutine),
	// for benchmarks.
	countOnly bool

	frames, flushes atomic.Int64
	inWrite         atomic.Int32
	overlaps        atomic.Int64 // writes or flushes that overlapped another
	readerWrites    atomic.Int64 // writes or flushes made by the reader
	reader          atomic.Uint64
}

func (d watchedDialer) Dial(ctx context.Context, url string, opts *transport.DialOptions) (transport.Conn, error) {
	tc, err := transport.WebSocket{}.Dial(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	return &watchedConn{Conn: tc, w: d.w}, nil
}

type watchedConn struct {
	transport.Conn
	w *writeWatch
}

func (c *watchedConn) Start(h transport.Handler) { c.Conn.Start(watchedHandler{h, c.w}) }

func (c *watchedConn) enter() {
	if c.w.inWrite.Add(1) > 1 {
		c.w.overlaps.Add(1)
	}
	if c.w.countOnly {
		return
	}
	if id := c.w.reader.Load(); id != 0 && id == goroutineID() {
		c.w.readerWrites.Add(1)
	}
}

func (c *watchedConn) WriteMessage(p []byte) error {
	c.enter()
	defer c.w.inWrite.Add(-1)
	c.w.frames.Add(1)
	return c.Conn.WriteMessage(p)
}

func (c *watchedConn) Flush() error {
	c.enter()
	defer c.w.inWrite.Add(-1)
	c.w.flushes.Add(1)
	return c.Conn.Flush()
}

type watchedHandler struct {
	transport.Handler
	w *writeWatch
}

func (h watchedHandler) HandleMessage(typ transport.MessageType, data []byte) {
	if !h.w.countOnly {
		h.w.reader.Store(goroutineID())
	}
	h.Handler.HandleMessage(typ, data)
}

// goroutineID returns the number of the calling goroutine, from the first
// line of its stack trace ("goroutine 7 [running]:").
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

// Calls made alone, calls made concurrently, stream messages and the
// CANCEL the reader causes for a stalled stream all go through one writer
// at a time, and never through the reader.
func TestSingleWriter(t *testing.T) {
	t.Parallel()
	srv, p := startServer(t)
	w := &writeWatch{}
	c := dial(t, srv.URL, clientgo.WithDialer(watchedDialer{w}),
		clientgo.WithStreamBuffer(4, 1<<20), clientgo.WithSlowConsumerTimeout(20*time.Millisecond))
	ctx := testCtx(t)

	// A stream nobody reads, alone on the connection: the reader cancels
	// it, and that CANCEL must go through a writer goroutine.
	stalled, err := clientgo.CallServerStream[any, int](ctx, c, "ticker", nil)
	require.NoError(t, err)
	p.waitStarted(t, "ticker")
	assert.ErrorIs(t, p.waitEnded(t), context.Canceled, "the stalled stream is cancelled on the server")
	for err == nil {
		_, err = stalled.Recv()
	}
	assert.True(t, errors.Is(err, clientgo.ErrSlowConsumer), "stalled stream: %v", err)

	var wg sync.WaitGroup
	// One goroutine makes calls one at a time: they are written by their
	// own goroutine whenever no other call is open.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 300 {
			sum, err := clientgo.Call[[2]int, int](ctx, c, "add", [2]int{i, 1})
			assert.NoError(t, err)
			assert.Equal(t, i+1, sum)
		}
	}()
	// Bursts of concurrent calls, batched by the writer goroutine.
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				sum, err := clientgo.Call[[2]int, int](ctx, c, "add", [2]int{g, i})
				assert.NoError(t, err)
				assert.Equal(t, g+i, sum)
			}
		}()
	}
	// A bidirectional stream sending all along.
	wg.Add(1)
	go func() {
		defer wg.Done()
		s, err := clientgo.CallBidiStream[int, int](ctx, c, "echo")
		if !assert.NoError(t, err) {
			return
		}
		defer s.Close()
		for i := range 200 {
			assert.NoError(t, s.Send(i))
			got, err := s.Recv()
			assert.NoError(t, err)
			assert.Equal(t, i, got)
		}
	}()
	wg.Wait()

	assert.Zero(t, w.overlaps.Load(), "writes that overlapped another")
	assert.Zero(t, w.readerWrites.Load(), "writes made by the reader")
	assert.NotZero(t, w.reader.Load())
	t.Logf("%d frames in %d flushes", w.frames.Load(), w.flushes.Load())
}

// Unary calls are recycled once Call returns, while the reader may still
// hold them: calls cancelled at random moments, racing their replies, on
// two clients whose sequence numbers overlap, each get their own result
// and metadata or their context's error, never another call's.
func TestRecycledCallsNeverMix(t *testing.T) {
	t.Parallel()
	srv, _ := startServer(t)
	clients := []*clientgo.Client{dial(t, srv.URL), dial(t, srv.URL)}
	const goroutines, calls = 8, 300
	var completed, cancelled atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clients[g%len(clients)]
			for i := range calls {
				id := g*calls + i
				ctx, cancel := context.WithCancel(context.Background())
				if i%2 == 1 {
					// Cancel around the moment the reply arrives.
					time.AfterFunc(time.Duration(i%13)*40*time.Microsecond, cancel)
				}
				var header, trailer rpc.Metadata
				got, err := clientgo.Call[int, int](ctx, c, "md_unary", id,
					clientgo.WithMetadata(rpc.Metadata{"id": id}),
					clientgo.CaptureHeader(&header), clientgo.CaptureTrailer(&trailer))
				cancel()
				if errors.Is(err, context.Canceled) {
					cancelled.Add(1)
					continue
				}
				if !assert.NoError(t, err) {
					return
				}
				completed.Add(1)
				assert.Equal(t, id, got)
				assert.Equal(t, rpc.Metadata{"kind": "unary"}, header)
				req, _ := trailer["request"].(map[string]any)
				assert.EqualValues(t, id, req["id"], "trailer of call %d: %v", id, trailer)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d calls completed, %d cancelled", completed.Load(), cancelled.Load())
	assert.NotZero(t, completed.Load())
}
