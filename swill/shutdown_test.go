package swill_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/memtransport"
	"go.uber.org/goleak"
)

// Shutdown lets running calls finish, refuses new calls with 503 and new
// connections, then closes every connection with 1001.
func TestShutdownLetsCallsFinish(t *testing.T) {
	t.Parallel()
	g := newGate()
	srv := startServer(t, withDemo(gateHandlers(g)...))
	c := dialWire(t, srv)
	idle := dialWire(t, srv)
	c.msg(1, "g.unary", 5)
	c.msg(2, "g.server", 6)
	g.waitStarted(t)
	g.waitStarted(t)
	assert.Equal(t, int64(6), c.recv().int(t))

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*waitFor)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()

	// Calls made before Shutdown began are served; after, they get 503.
	var e *rpc.Error
	for seq := int64(100); e == nil; seq++ {
		require.Less(t, seq, int64(10000), "Shutdown never began refusing calls")
		c.msg(seq, "add", []int{1, 1})
		r := c.recv()
		require.Equal(t, seq, r.Seq)
		if r.Type == wire.TypeError {
			e = r.rpcErr(t)
		}
	}
	assert.Equal(t, rpc.CodeUnavailable, e.Code)
	c.send(200, "sum", wire.TypeMetadata, nil, rpc.Metadata{})
	assert.Equal(t, rpc.CodeUnavailable, c.recv().rpcErr(t).Code)

	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}})
	require.Error(t, err, "no new connection during Shutdown")
	if resp != nil {
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	}

	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) with calls running", err)
	case <-time.After(50 * time.Millisecond):
	}
	g.open()
	got := map[int64]wire.FrameType{}
	for range 2 {
		r := c.recv()
		got[r.Seq] = r.Type
	}
	assert.Equal(t, map[int64]wire.FrameType{1: wire.TypeMessage, 2: wire.TypeEndOfStream}, got, "running calls finish normally")
	assert.Equal(t, websocket.StatusGoingAway, c.closed())
	assert.Equal(t, websocket.StatusGoingAway, idle.closed())
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(waitFor):
		t.Fatal("Shutdown did not return")
	}
}

// When Shutdown's context ends first, the remaining calls are cancelled,
// connections are closed with 1001 and Shutdown returns the context's
// error.
func TestShutdownDeadline(t *testing.T) {
	t.Parallel()
	g := newGate()
	srv := startServer(t, withDemo(gateHandlers(g)...))
	c := dialWire(t, srv)
	names := []string{"g.unary", "g.server", "g.client", "g.bidi"}
	for i, name := range names {
		c.msg(int64(i), name, i)
		g.waitStarted(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, srv.Shutdown(ctx), context.DeadlineExceeded)
	for range names {
		g.waitCtxDone(t)
	}
	for {
		// g.server's item, and possibly 503s for the cancelled calls,
		// may precede the close.
		select {
		case r := <-c.in:
			if r.Type == wire.TypeError {
				assert.Equal(t, rpc.CodeUnavailable, r.rpcErr(t).Code)
			}
			continue
		case <-c.done:
		case <-time.After(waitFor):
			t.Fatal("connection not closed")
		}
		break
	}
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(c.err))
}

// Once Shutdown has begun, the HTTP endpoint answers 503 and ServeConn
// closes what it is given with 1001.
func TestAfterShutdown(t *testing.T) {
	t.Parallel()
	srv := startServer(t, withDemo())
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(t, srv.Shutdown(ctx))
	require.NoError(t, srv.Shutdown(ctx), "a second Shutdown is harmless")

	resp, err := http.Get("http" + strings.TrimPrefix(srv.URL, "ws"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

	client, server := memtransport.Pipe(rpc.Subprotocol)
	mc := &memClient{conn: client, in: make(chan reply, 1), closed: make(chan error, 1)}
	client.Start(mc)
	srv.ServeConn(server, nil)
	assert.Equal(t, transport.StatusGoingAway, transport.CloseStatus(mc.waitClosed(t)))
	client.Close(transport.StatusNormalClosure, "")
}

// Nothing the server started outlives Shutdown: connections, calls of
// every kind, writers, keepalive. (Not parallel, so that the check sees
// this test's goroutines only.)
func TestShutdownLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	g := newGate()
	srv := swill.NewServer(swill.WithLimits(swill.Limits{PingInterval: 10 * time.Millisecond}))
	require.NoError(t, srv.Register(withDemo(gateHandlers(g)...)...))
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	hs := httptest.NewServer(mux)
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
	clients := []*wireClient{dialWireWith(t, url, dialOptions{}), dialWireWith(t, url, dialOptions{})}
	for _, c := range clients {
		for i, name := range []string{"g.unary", "g.server", "g.client", "g.bidi"} {
			c.msg(int64(i), name, i)
			g.waitStarted(t)
		}
		assert.Equal(t, int64(1), c.recv().Seq, "g.server's item")
		c.msg(11, "echo", 1) // left open
		assert.Equal(t, int64(11), c.recv().Seq)
		c.alive()
	}
	mem := newMemClient(t, srv)
	mem.send(t, 1, "g.unary", wire.TypeMessage, 1, nil)
	g.waitStarted(t)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, srv.Shutdown(ctx), context.DeadlineExceeded)
	for _, c := range clients {
		assert.Equal(t, websocket.StatusGoingAway, closedStatus(t, c))
	}
	assert.Equal(t, transport.StatusGoingAway, transport.CloseStatus(mem.waitClosed(t)))
	mem.conn.Close(transport.StatusNormalClosure, "")
	hs.Close()
}

// closedStatus drains c until the server closes it.
func closedStatus(t *testing.T, c *wireClient) websocket.StatusCode {
	t.Helper()
	for {
		select {
		case <-c.in:
		case <-c.done:
			for len(c.in) > 0 {
				<-c.in
			}
			return websocket.CloseStatus(c.err)
		case <-time.After(waitFor):
			t.Fatal("connection not closed")
		}
	}
}

// Shutdown with hundreds of calls in flight: the calls that complete
// before the deadline deliver their results, every other one ends with
// exactly one ERROR 503 carrying a retry hint, every connection is
// closed with 1001 after those frames, and Shutdown returns soon after
// its deadline.
func TestShutdownUnderLoad(t *testing.T) {
	t.Parallel()
	const (
		clients  = 4
		fast     = 50 // per client: complete once Shutdown has begun
		stuck    = 50 // per client: run until their context ends
		streams  = 10 // per client: stream until their context ends
		deadline = 500 * time.Millisecond
	)
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(clients * (fast + stuck + streams))
	srv := startServer(t, withDemo(
		swill.Unary("load.fast", func(ctx context.Context, n int) (int, error) {
			started.Done()
			<-release
			return n, nil
		}),
		swill.Unary("load.stuck", func(ctx context.Context, n int) (int, error) {
			started.Done()
			<-ctx.Done()
			return 0, ctx.Err()
		}),
		swill.ServerStream("load.stream", func(ctx context.Context, n int, out chan<- int) error {
			started.Done()
			for i := 0; ; i++ {
				select {
				case out <- i:
				case <-ctx.Done():
					return ctx.Err()
				}
				select {
				case <-time.After(20 * time.Millisecond):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}),
	))
	conns := make([]*wireClient, clients)
	for i := range conns {
		c := dialWire(t, srv)
		conns[i] = c
		seq := int64(0)
		for range fast {
			c.msg(seq, "load.fast", int(seq))
			seq++
		}
		for range stuck {
			c.msg(seq, "load.stuck", int(seq))
			seq++
		}
		for range streams {
			c.msg(seq, "load.stream", int(seq))
			seq++
		}
	}
	allStarted := make(chan struct{})
	go func() { started.Wait(); close(allStarted) }()
	select {
	case <-allStarted:
	case <-time.After(waitFor):
		t.Fatal("the calls did not all start")
	}

	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	begin := time.Now()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	close(release)

	for ci, c := range conns {
		terminal := map[int64]reply{}
		items := 0
	read:
		for {
			select {
			case r := <-c.in:
				if r.Type == wire.TypeMessage && r.Seq >= fast+stuck {
					items++ // a stream item
					continue
				}
				_, dup := terminal[r.Seq]
				require.False(t, dup, "client %d: a second terminal frame for seq %d", ci, r.Seq)
				terminal[r.Seq] = r
			case <-c.done:
				for len(c.in) > 0 {
					r := <-c.in
					if r.Type == wire.TypeMessage && r.Seq >= fast+stuck {
						items++
						continue
					}
					terminal[r.Seq] = r
				}
				break read
			case <-time.After(waitFor):
				t.Fatalf("client %d: connection not closed", ci)
			}
		}
		assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(c.err), "client %d", ci)
		require.Len(t, terminal, fast+stuck+streams, "client %d: one terminal frame per call", ci)
		for seq, r := range terminal {
			if seq < fast {
				require.Equal(t, wire.TypeMessage, r.Type, "client %d seq %d: a completed call delivers its result", ci, seq)
				assert.Equal(t, seq, r.int(t))
				continue
			}
			e := r.rpcErr(t)
			assert.Equal(t, rpc.CodeUnavailable, e.Code, "client %d seq %d", ci, seq)
			assert.Equal(t, "server shutting down", e.Message)
			assert.Contains(t, r.Trailing, rpc.RetryAfterKey, "client %d seq %d: the 503 has a retry hint", ci, seq)
		}
		assert.Greater(t, items, 0, "client %d: the streams' items before the end", ci)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(waitFor):
		t.Fatal("Shutdown did not return")
	}
	took := time.Since(begin)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, took, deadline+2*time.Second, "Shutdown's return after its deadline")
	t.Logf("shutdown under load: %d calls in flight on %d connections; %d results delivered, %d ended with 503 + retry hint; returned after %v (deadline %v)",
		clients*(fast+stuck+streams), clients, clients*fast, clients*(stuck+streams), took.Round(time.Millisecond), deadline)
}
