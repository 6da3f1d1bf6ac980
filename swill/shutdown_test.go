package swill_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
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
