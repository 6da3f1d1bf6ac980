package clientgo_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/memtransport"
)

// killable is a swill server on a real loopback port that a test can kill
// abruptly (every TCP connection dropped, no close frame) and start again
// on the same port.
type killable struct {
	t     *testing.T
	addr  string
	probe *probe

	mu    sync.Mutex
	hs    *http.Server
	srv   *swill.Server
	conns map[net.Conn]struct{}
	done  chan struct{}
}

func startKillable(t *testing.T) *killable {
	k := &killable{t: t, addr: "127.0.0.1:0", probe: newProbe()}
	k.start()
	t.Cleanup(k.kill)
	return k
}

func (k *killable) url() string { return "ws://" + k.addr + "/ws" }

func (k *killable) start() {
	k.t.Helper()
	var ln net.Listener
	var err error
	// The port was just released; on some systems it takes a moment.
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", k.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // real time: the system frees the port when it will; poll
	}
	require.NoError(k.t, err)
	k.addr = ln.Addr().String()
	srv := swill.NewServer()
	require.NoError(k.t, demosvc.Register(srv))
	require.NoError(k.t, srv.Register(testHandlers(k.probe)...))
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	k.mu.Lock()
	k.srv = srv
	k.conns = map[net.Conn]struct{}{}
	k.done = make(chan struct{})
	k.hs = &http.Server{Handler: mux, ConnState: func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			k.mu.Lock()
			k.conns[c] = struct{}{}
			k.mu.Unlock()
		}
	}}
	hs, done := k.hs, k.done
	k.mu.Unlock()
	go func() {
		defer close(done)
		hs.Serve(ln)
	}()
}

// kill drops every connection at the TCP level, then stops the server.
func (k *killable) kill() {
	k.mu.Lock()
	hs, srv, conns, done := k.hs, k.srv, k.conns, k.done
	k.hs, k.srv, k.conns = nil, nil, nil
	k.mu.Unlock()
	if hs == nil {
		return
	}
	hs.Close()
	<-done
	for c := range conns {
		c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	srv.Shutdown(ctx)
}

// stateLog records the states a client reports through its hook.
type stateLog struct {
	ch chan clientgo.State
}

// countingDialer is the default transport, reporting every dial.
type countingDialer struct {
	transport.WebSocket
	dialed chan struct{}
}

func (d *countingDialer) Dial(ctx context.Context, url string, opts *transport.DialOptions) (transport.Conn, error) {
	select {
	case d.dialed <- struct{}{}:
	default:
	}
	return d.WebSocket.Dial(ctx, url, opts)
}

// drain forgets the dials made so far.
func (d *countingDialer) drain() {
	for {
		select {
		case <-d.dialed:
		default:
			return
		}
	}
}

// wait waits for n more dials.
func (d *countingDialer) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-d.dialed:
		case <-time.After(wait):
			t.Fatalf("fewer than %d reconnection attempts", n)
		}
	}
}

func newStateLog() *stateLog { return &stateLog{ch: make(chan clientgo.State, 64)} }

func (l *stateLog) hook(s clientgo.State, err error) {
	if s == clientgo.StateConnected || s == clientgo.StateClosed {
		if err != nil {
			panic("unexpected error with state " + s.String())
		}
	} else if !errors.Is(err, clientgo.ErrConnectionLost) {
		panic("state " + s.String() + " without ErrConnectionLost")
	}
	l.ch <- s
}

func (l *stateLog) expect(t *testing.T, want clientgo.State) {
	t.Helper()
	select {
	case got := <-l.ch:
		require.Equal(t, want, got)
	case <-time.After(wait):
		t.Fatalf("no state change to %s", want)
	}
}

func TestServerKilledAndRestarted(t *testing.T) {
	k := startKillable(t)
	states := newStateLog()
	attempts := &countingDialer{dialed: make(chan struct{}, 64)}
	c := dial(t, k.url(),
		clientgo.WithLogger(testLogger(t)),
		clientgo.WithStateHook(states.hook),
		clientgo.WithDialer(attempts),
		clientgo.WithReconnect(clientgo.ReconnectPolicy{InitialDelay: 20 * time.Millisecond, MaxDelay: 100 * time.Millisecond}))
	states.expect(t, clientgo.StateConnected)

	// A stream in the middle of its items, and a unary call in progress.
	s, err := clientgo.CallServerStream[any, int](context.Background(), c, "ticker", nil)
	require.NoError(t, err)
	k.probe.waitStarted(t, "ticker")
	for i := 0; i < 3; i++ {
		_, err := s.Recv()
		require.NoError(t, err)
	}
	unary := make(chan error, 1)
	go func() {
		_, err := clientgo.Call[any, int](context.Background(), c, "block", nil)
		unary <- err
	}()
	k.probe.waitStarted(t, "block")

	killed := time.Now()
	k.kill()

	// Every open call fails promptly with ErrConnectionLost.
	select {
	case err := <-unary:
		assert.ErrorIs(t, err, clientgo.ErrConnectionLost)
		assert.False(t, rpc.IsWireError(err))
	case <-time.After(wait):
		t.Fatal("the unary call hangs after the connection was lost")
	}
	for err == nil {
		_, err = s.Recv()
	}
	assert.ErrorIs(t, err, clientgo.ErrConnectionLost)
	assert.ErrorIs(t, s.Err(), clientgo.ErrConnectionLost)
	assert.Less(t, time.Since(killed), 2*time.Second)
	states.expect(t, clientgo.StateConnecting)
	assert.Equal(t, clientgo.StateConnecting, c.State())

	// A call made while the server is down waits for its context.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err = clientgo.Call[[2]int, int](ctx, c, "add", [2]int{1, 2})
	cancel()
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	// One made now succeeds once the server is back.
	pending := make(chan error, 1)
	go func() {
		sum, err := clientgo.Call[[2]int, int](testCtx(t), c, "add", [2]int{20, 22})
		if err == nil && sum != 42 {
			err = errors.New("wrong sum")
		}
		pending <- err
	}()
	attempts.drain()
	attempts.wait(t, 2) // a few failed attempts
	k.start()
	states.expect(t, clientgo.StateConnected)
	select {
	case err := <-pending:
		assert.NoError(t, err, "the call made while reconnecting")
	case <-time.After(wait):
		t.Fatal("the call made while reconnecting did not complete")
	}

	// New calls of every kind succeed on the new connection.
	sum, err := clientgo.Call[[2]int, int](context.Background(), c, "add", [2]int{1, 2})
	require.NoError(t, err)
	assert.Equal(t, 3, sum)
	s2, err := clientgo.CallServerStream[int, int](context.Background(), c, "countdown", 2)
	require.NoError(t, err)
	var got []int
	for v, err := range s2.All() {
		require.NoError(t, err)
		got = append(got, v)
	}
	assert.Equal(t, []int{2, 1}, got)

	require.NoError(t, c.Close())
	states.expect(t, clientgo.StateClosed)
}

func TestGracefulShutdownReconnects(t *testing.T) {
	k := startKillable(t)
	states := newStateLog()
	c := dial(t, k.url(), clientgo.WithStateHook(states.hook),
		clientgo.WithReconnect(clientgo.ReconnectPolicy{InitialDelay: 10 * time.Millisecond}))
	states.expect(t, clientgo.StateConnected)
	s, err := clientgo.CallServerStream[any, int](context.Background(), c, "ticker", nil)
	require.NoError(t, err)
	k.probe.waitStarted(t, "ticker")

	// Shutdown with an expired context: running calls are cancelled and
	// the connection closed with 1001.
	k.mu.Lock()
	srv := k.srv
	k.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv.Shutdown(ctx)
	for err == nil {
		_, err = s.Recv()
	}
	// Either the server's 503 for the cancelled stream or the closed
	// connection ends it, depending on which frame comes first.
	if !errors.Is(err, clientgo.ErrConnectionLost) {
		assert.Equal(t, rpc.CodeUnavailable, rpc.CodeOf(err), "got %v", err)
	}
	states.expect(t, clientgo.StateConnecting)
	k.kill()
	k.start()
	states.expect(t, clientgo.StateConnected)
	sum, err := clientgo.Call[[2]int, int](testCtx(t), c, "add", [2]int{1, 2})
	require.NoError(t, err)
	assert.Equal(t, 3, sum)
}

func TestLossCloseStatus(t *testing.T) {
	k := startKillable(t)
	c := dial(t, k.url(), clientgo.WithoutReconnect())
	s, err := clientgo.CallServerStream[any, int](context.Background(), c, "ticker", nil)
	require.NoError(t, err)
	k.probe.waitStarted(t, "ticker")
	k.mu.Lock()
	srv := k.srv
	k.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	srv.Shutdown(ctx)
	for err == nil {
		_, err = s.Recv()
	}
	if errors.Is(err, clientgo.ErrConnectionLost) {
		assert.Equal(t, transport.StatusGoingAway, transport.CloseStatus(err), "the cause is kept: %v", err)
	}
	require.True(t, c.WaitForStateChange(testCtx(t), clientgo.StateConnected))
	assert.Equal(t, clientgo.StateDisconnected, c.State())
}

func TestWithoutReconnect(t *testing.T) {
	k := startKillable(t)
	states := newStateLog()
	dials := &countingDialer{dialed: make(chan struct{}, 64)}
	c := dial(t, k.url(), clientgo.WithoutReconnect(), clientgo.WithStateHook(states.hook), clientgo.WithDialer(dials))
	states.expect(t, clientgo.StateConnected)
	k.kill()
	states.expect(t, clientgo.StateDisconnected)
	_, err := clientgo.Call[[2]int, int](context.Background(), c, "add", [2]int{1, 2})
	assert.ErrorIs(t, err, clientgo.ErrConnectionLost, "no waiting without reconnection")
	k.start()
	// No reconnection, though the server is back: a call still fails at
	// once; the next state the hook reports, in order, is the one Close
	// gives; and the client dialled once only, which is final once Close
	// has returned (it waits for any reconnection attempt).
	_, err = clientgo.Call[[2]int, int](testCtx(t), c, "add", [2]int{1, 2})
	assert.ErrorIs(t, err, clientgo.ErrConnectionLost, "no reconnection")
	assert.Equal(t, clientgo.StateDisconnected, c.State(), "no reconnection")
	require.NoError(t, c.Close())
	states.expect(t, clientgo.StateClosed)
	assert.Len(t, dials.dialed, 1, "no dial but the first")
	_, err = clientgo.Call[[2]int, int](context.Background(), c, "add", [2]int{1, 2})
	assert.ErrorIs(t, err, clientgo.ErrClosed)
}

func TestReconnectGivesUp(t *testing.T) {
	k := startKillable(t)
	states := newStateLog()
	c := dial(t, k.url(), clientgo.WithStateHook(states.hook),
		clientgo.WithReconnect(clientgo.ReconnectPolicy{InitialDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxAttempts: 3}))
	states.expect(t, clientgo.StateConnected)
	waiting := make(chan error, 1)
	k.kill()
	states.expect(t, clientgo.StateConnecting)
	go func() {
		_, err := clientgo.Call[[2]int, int](context.Background(), c, "add", [2]int{1, 2})
		waiting <- err
	}()
	states.expect(t, clientgo.StateDisconnected)
	select {
	case err := <-waiting:
		assert.ErrorIs(t, err, clientgo.ErrConnectionLost, "a waiting call fails once the client gives up")
		assert.ErrorIs(t, err, syscall.ECONNREFUSED, "the last dial error is kept")
	case <-time.After(wait):
		t.Fatal("the waiting call hangs")
	}
}

func TestCloseWhileReconnecting(t *testing.T) {
	k := startKillable(t)
	states := newStateLog()
	c := dial(t, k.url(), clientgo.WithStateHook(states.hook),
		clientgo.WithReconnect(clientgo.ReconnectPolicy{InitialDelay: time.Hour}))
	states.expect(t, clientgo.StateConnected)
	k.kill()
	states.expect(t, clientgo.StateConnecting)
	waiting := make(chan error, 1)
	go func() {
		_, err := clientgo.Call[[2]int, int](context.Background(), c, "add", [2]int{1, 2})
		waiting <- err
	}()
	waitBlocked(t, "clientgo.(*Client).conn") // the call waits for a connection
	require.NoError(t, c.Close())
	assert.ErrorIs(t, <-waiting, clientgo.ErrClosed)
	states.expect(t, clientgo.StateClosed)
}

func TestCloseFromStateHook(t *testing.T) {
	k := startKillable(t)
	var c *clientgo.Client
	ready := make(chan struct{})
	closed := make(chan struct{})
	c = dial(t, k.url(), clientgo.WithStateHook(func(s clientgo.State, err error) {
		<-ready
		switch s {
		case clientgo.StateConnecting:
			c.Close()
		case clientgo.StateClosed:
			close(closed)
		}
	}))
	close(ready)
	k.kill()
	select {
	case <-closed:
	case <-time.After(wait):
		t.Fatal("Close from the hook did not complete")
	}
	assert.Equal(t, clientgo.StateClosed, c.State())
}

func TestMemTransport(t *testing.T) {
	srv := swill.NewServer()
	require.NoError(t, demosvc.Register(srv))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		srv.Shutdown(ctx)
	})
	var mu sync.Mutex
	var serverEnds []transport.Conn
	d := memtransport.Dialer{Serve: func(tc transport.Conn) {
		mu.Lock()
		serverEnds = append(serverEnds, tc)
		mu.Unlock()
		srv.ServeConn(tc, nil)
	}}
	states := newStateLog()
	c := dial(t, "mem://demo", clientgo.WithDialer(d), clientgo.WithStateHook(states.hook),
		clientgo.WithReconnect(clientgo.ReconnectPolicy{InitialDelay: time.Millisecond}))
	states.expect(t, clientgo.StateConnected)
	sum, err := clientgo.Call[[2]int, int](context.Background(), c, "add", [2]int{2, 2})
	require.NoError(t, err)
	assert.Equal(t, 4, sum)

	// The server drops the connection; the client dials a new pipe.
	mu.Lock()
	serverEnds[0].Close(transport.StatusInternalError, "gone")
	mu.Unlock()
	states.expect(t, clientgo.StateConnecting)
	states.expect(t, clientgo.StateConnected)
	sum, err = clientgo.Call[[2]int, int](context.Background(), c, "add", [2]int{3, 3})
	require.NoError(t, err)
	assert.Equal(t, 6, sum)
	mu.Lock()
	assert.Len(t, serverEnds, 2)
	mu.Unlock()
}

func TestKeepaliveDropsDeadConnection(t *testing.T) {
	// A server end that never answers anything: pings get no pong.
	var mu sync.Mutex
	var ends []transport.Conn
	d := memtransport.Dialer{Serve: func(tc transport.Conn) {
		mu.Lock()
		ends = append(ends, tc)
		mu.Unlock()
		tc.Start(silent{})
	}}
	states := newStateLog()
	c := dial(t, "mem://silent", clientgo.WithDialer(hangingPing{d}), clientgo.WithoutReconnect(),
		clientgo.WithStateHook(states.hook), clientgo.WithKeepalive(20*time.Millisecond, 20*time.Millisecond))
	states.expect(t, clientgo.StateConnected)
	errc := make(chan error, 1)
	go func() {
		_, err := clientgo.Call[[2]int, int](context.Background(), c, "add", [2]int{1, 2})
		errc <- err
	}()
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, clientgo.ErrConnectionLost)
	case <-time.After(wait):
		t.Fatal("a call on a dead connection hangs despite the keepalive")
	}
	states.expect(t, clientgo.StateDisconnected)
	mu.Lock()
	for _, e := range ends {
		e.Close(transport.StatusNormalClosure, "")
	}
	mu.Unlock()
}

// silent is a server end that ignores everything.
type silent struct{}

func (silent) HandleMessage(transport.MessageType, []byte) {}
func (silent) HandleClose(error)                           {}

// hangingPing wraps a dialer whose connections' Ping waits for its
// context, like a WebSocket whose peer has vanished.
type hangingPing struct{ d transport.Dialer }

func (h hangingPing) Dial(ctx context.Context, url string, opts *transport.DialOptions) (transport.Conn, error) {
	tc, err := h.d.Dial(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	return pingless{tc}, nil
}

type pingless struct{ transport.Conn }

func (pingless) Ping(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}
