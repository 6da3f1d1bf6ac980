package transport_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/transport"
)

// recorder is a transport.Handler that keeps what it reads.
type recorder struct {
	msgs      chan recorded
	closed    chan struct{}
	closeOnce sync.Once
	err       error
	calls     int // HandleClose calls, read after closed
	mu        sync.Mutex
}

type recorded struct {
	typ  transport.MessageType
	data []byte
}

func newRecorder() *recorder {
	return &recorder{msgs: make(chan recorded, 1024), closed: make(chan struct{})}
}

func (r *recorder) HandleMessage(typ transport.MessageType, data []byte) {
	r.msgs <- recorded{typ, bytes.Clone(data)}
}

func (r *recorder) HandleClose(err error) {
	r.mu.Lock()
	r.calls++
	r.mu.Unlock()
	r.closeOnce.Do(func() {
		r.err = err
		close(r.closed)
	})
}

func (r *recorder) next(tb testing.TB) recorded {
	tb.Helper()
	select {
	case m := <-r.msgs:
		return m
	case <-time.After(5 * time.Second):
		tb.Fatal("no message within 5s")
	}
	return recorded{}
}

func (r *recorder) quiet(tb testing.TB, d time.Duration) {
	tb.Helper()
	select {
	case m := <-r.msgs:
		tb.Fatalf("unexpected message %q", m.data)
	case <-time.After(d):
	}
}

func (r *recorder) waitClosed(tb testing.TB) error {
	tb.Helper()
	select {
	case <-r.closed:
		return r.err
	case <-time.After(10 * time.Second):
		tb.Fatal("connection not closed within 10s")
	}
	return nil
}

// pair is a server and a client end of one loopback WebSocket connection.
type pair struct {
	server, client       transport.Conn
	serverRec, clientRec *recorder
	request              *http.Request // the upgrade request the server saw
}

// connect accepts one connection with accept options ao on a loopback
// server and dials it with do. Both ends are closed when the test ends.
func connect(tb testing.TB, t transport.WebSocket, ao *transport.AcceptOptions, do *transport.DialOptions) *pair {
	tb.Helper()
	return connectWith(tb, false, t, ao, do)
}

// connectWith is connect, over TLS (wss) when secure.
func connectWith(tb testing.TB, secure bool, t transport.WebSocket, ao *transport.AcceptOptions, do *transport.DialOptions) *pair {
	tb.Helper()
	p := &pair{serverRec: newRecorder(), clientRec: newRecorder()}
	accepted := make(chan transport.Conn, 1)
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := t.Accept(w, r, ao)
		if err != nil {
			accepted <- nil
			return
		}
		p.request = r
		accepted <- c
	}))
	if secure {
		hs.StartTLS()
		if do == nil {
			do = &transport.DialOptions{}
		}
		do.HTTPClient = hs.Client()
	} else {
		hs.Start()
	}
	tb.Cleanup(hs.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client, err := t.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), do)
	require.NoError(tb, err)
	server := <-accepted
	require.NotNil(tb, server)
	p.server, p.client = server, client
	server.Start(p.serverRec)
	client.Start(p.clientRec)
	tb.Cleanup(func() {
		client.Close(transport.StatusNormalClosure, "")
		server.Close(transport.StatusNormalClosure, "")
		p.serverRec.waitClosed(tb)
		p.clientRec.waitClosed(tb)
	})
	return p
}

func send(tb testing.TB, c transport.Conn, msgs ...string) {
	tb.Helper()
	for _, m := range msgs {
		require.NoError(tb, c.WriteMessage([]byte(m)))
	}
	require.NoError(tb, c.Flush())
}

// Messages of every size travel both ways over TLS too, where the
// client's frames must go through TLS.
func TestWebSocketOverTLS(t *testing.T) {
	t.Parallel()
	p := connectWith(t, true, transport.WebSocket{}, nil, nil)
	big := bytes.Repeat([]byte("0123456789abcdef"), 10<<10) // 160 KiB
	for _, c := range []transport.Conn{p.client, p.server} {
		require.NoError(t, c.WriteMessage([]byte("small")))
		require.NoError(t, c.WriteMessage(big))
		require.NoError(t, c.Flush())
	}
	for _, r := range []*recorder{p.serverRec, p.clientRec} {
		assert.Equal(t, "small", string(r.next(t).data))
		assert.Equal(t, big, r.next(t).data)
	}
}

// Once the peer has closed the connection (and the library has answered
// its close frame), a message is refused rather than sent after the
// close frame.
func TestWebSocketNoMessageAfterPeerClose(t *testing.T) {
	t.Parallel()
	p := connect(t, transport.WebSocket{}, nil, nil)
	require.NoError(t, p.client.Close(transport.StatusNormalClosure, "bye"))
	p.serverRec.waitClosed(t)
	assert.ErrorIs(t, p.server.WriteMessage([]byte("late")), transport.ErrClosed)
	p.clientRec.waitClosed(t)
	p.clientRec.quiet(t, 50*time.Millisecond)
}

func TestWebSocketMessagesBothWays(t *testing.T) {
	t.Parallel()
	p := connect(t, transport.WebSocket{}, nil, nil)
	send(t, p.client, "one", "two", "")
	for _, want := range []string{"one", "two", ""} {
		m := p.serverRec.next(t)
		assert.Equal(t, transport.Binary, m.typ)
		assert.Equal(t, want, string(m.data))
	}
	big := strings.Repeat("x", 200<<10) // larger than the pooled read buffers
	send(t, p.server, big, "after")
	assert.Equal(t, big, string(p.clientRec.next(t).data))
	assert.Equal(t, "after", string(p.clientRec.next(t).data))
}

// Written messages stay in memory until Flush, each remaining a message
// of its own.
func TestWebSocketBatchesUntilFlush(t *testing.T) {
	t.Parallel()
	p := connect(t, transport.WebSocket{}, nil, nil)
	for _, m := range []string{"a", "b", "c"} {
		require.NoError(t, p.server.WriteMessage([]byte(m)))
	}
	p.clientRec.quiet(t, 100*time.Millisecond)
	require.NoError(t, p.server.Flush())
	for _, want := range []string{"a", "b", "c"} {
		assert.Equal(t, want, string(p.clientRec.next(t).data))
	}
	// The buffer given to WriteMessage may be reused at once.
	buf := []byte("first")
	require.NoError(t, p.server.WriteMessage(buf))
	copy(buf, "XXXXX")
	require.NoError(t, p.server.Flush())
	assert.Equal(t, "first", string(p.clientRec.next(t).data))
}

// A batch that outgrows 64 KiB goes out without waiting for Flush, in
// order, so a long batch neither grows without bound nor stalls the peer.
func TestWebSocketLargeBatchWritesThrough(t *testing.T) {
	t.Parallel()
	p := connect(t, transport.WebSocket{}, nil, nil)
	msg := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 4096+i) }
	const n = 40 // about 160 KiB
	for i := range n {
		require.NoError(t, p.server.WriteMessage(msg(i)))
	}
	// At least the first 64 KiB arrive before any flush.
	for i := range 10 {
		assert.Equal(t, msg(i), p.clientRec.next(t).data)
	}
	require.NoError(t, p.server.Flush())
	for i := 10; i < n; i++ {
		assert.Equal(t, msg(i), p.clientRec.next(t).data)
	}
	// A message larger than the batch goes through whole.
	big := bytes.Repeat([]byte("z"), 200<<10)
	require.NoError(t, p.server.WriteMessage([]byte("before")))
	require.NoError(t, p.server.WriteMessage(big))
	require.NoError(t, p.server.WriteMessage([]byte("after")))
	require.NoError(t, p.server.Flush())
	assert.Equal(t, "before", string(p.clientRec.next(t).data))
	assert.Equal(t, big, p.clientRec.next(t).data)
	assert.Equal(t, "after", string(p.clientRec.next(t).data))
}

// Control frames written between batches (pings, pongs, the close frame)
// must not inherit the deadline of a flush that is long past.
func TestWebSocketControlFramesAfterIdle(t *testing.T) {
	t.Parallel()
	ws := transport.WebSocket{WriteTimeout: 30 * time.Millisecond}
	p := connect(t, ws, nil, nil)
	send(t, p.server, "hello")
	send(t, p.client, "hello")
	p.clientRec.next(t)
	p.serverRec.next(t)
	time.Sleep(100 * time.Millisecond) // real time: both write deadlines must be in the past

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, p.client.Ping(ctx), "server must answer a ping after being idle")
	require.NoError(t, p.server.Ping(ctx), "client must answer a ping after being idle")
	send(t, p.server, "still")
	assert.Equal(t, "still", string(p.clientRec.next(t).data))

	time.Sleep(100 * time.Millisecond) // real time: the deadline of the flush of "still" must be in the past
	require.NoError(t, p.server.Close(transport.StatusGoingAway, "bye"))
	err := p.clientRec.waitClosed(t)
	var ce *transport.CloseError
	require.ErrorAs(t, err, &ce, "the close frame must reach the client")
	assert.Equal(t, transport.StatusGoingAway, ce.Code)
	assert.Equal(t, "bye", ce.Reason)
}

func TestWebSocketClose(t *testing.T) {
	t.Parallel()
	p := connect(t, transport.WebSocket{}, nil, nil)
	send(t, p.server, "last")
	require.NoError(t, p.server.Close(transport.StatusGoingAway, "shutting down"))
	require.NoError(t, p.server.Close(transport.StatusNormalClosure, "again"), "a second Close does nothing")

	assert.Equal(t, "last", string(p.clientRec.next(t).data), "frames flushed before Close arrive")
	err := p.clientRec.waitClosed(t)
	assert.Equal(t, transport.StatusGoingAway, transport.CloseStatus(err))
	assert.ErrorIs(t, p.serverRec.waitClosed(t), transport.ErrClosed, "the closing side sees ErrClosed")

	assert.ErrorIs(t, p.server.WriteMessage([]byte("x")), transport.ErrClosed)
	p.serverRec.mu.Lock()
	assert.Equal(t, 1, p.serverRec.calls, "HandleClose runs once")
	p.serverRec.mu.Unlock()
}

func TestWebSocketReadLimit(t *testing.T) {
	t.Parallel()
	p := connect(t, transport.WebSocket{}, &transport.AcceptOptions{ReadLimit: 1024}, nil)
	send(t, p.client, strings.Repeat("a", 1024))
	assert.Len(t, p.serverRec.next(t).data, 1024, "a message of exactly the limit is accepted")
	send(t, p.client, strings.Repeat("a", 1025))
	err := p.clientRec.waitClosed(t)
	assert.Equal(t, transport.StatusMessageTooBig, transport.CloseStatus(err))
	p.serverRec.waitClosed(t)
	p.serverRec.quiet(t, 0)
}

func TestWebSocketSubprotocolAndHeaders(t *testing.T) {
	t.Parallel()
	p := connect(t, transport.WebSocket{},
		&transport.AcceptOptions{Subprotocols: []string{"swill.v1", "swill/1"}},
		&transport.DialOptions{
			Subprotocols: []string{"swill/1", "swill.v1"},
			Header:       http.Header{"X-Token": {"secret"}},
			HTTPClient:   &http.Client{Transport: http.DefaultTransport},
		})
	assert.Equal(t, "swill.v1", p.server.Subprotocol(), "the server's preference wins")
	assert.Equal(t, "swill.v1", p.client.Subprotocol())
	assert.Equal(t, "secret", p.request.Header.Get("X-Token"))
}

func TestWebSocketTextMessage(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	accepted := make(chan transport.Conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := transport.WebSocket{}.Accept(w, r, nil)
		require.NoError(t, err)
		c.Start(rec)
		accepted <- c
	}))
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	wc, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	require.NoError(t, err)
	defer wc.CloseNow()
	require.NoError(t, wc.Write(ctx, websocket.MessageText, []byte("hi")))
	m := rec.next(t)
	assert.Equal(t, transport.Text, m.typ)
	assert.Equal(t, "hi", string(m.data))
	server := <-accepted
	// Close waits for the peer's answer to the close frame, so the client
	// reads meanwhile.
	readErr := make(chan error, 1)
	go func() {
		_, _, err := wc.Read(ctx)
		readErr <- err
	}()
	server.Close(transport.StatusUnsupportedData, "binary only")
	assert.Equal(t, websocket.StatusUnsupportedData, websocket.CloseStatus(<-readErr))
	rec.waitClosed(t)
}

// A peer that stops reading makes Flush fail after the write timeout
// instead of blocking the writer forever.
func TestWebSocketWriteTimeout(t *testing.T) {
	t.Parallel()
	ws := transport.WebSocket{WriteTimeout: 100 * time.Millisecond}
	accepted := make(chan transport.Conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, nil)
		require.NoError(t, err)
		accepted <- c
	}))
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	wc, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	require.NoError(t, err)
	defer wc.CloseNow() // never reads

	server := <-accepted
	rec := newRecorder()
	server.Start(rec)
	chunk := make([]byte, 256<<10)
	var werr error
	deadline := time.Now().Add(20 * time.Second)
	for werr == nil && time.Now().Before(deadline) {
		if werr = server.WriteMessage(chunk); werr == nil {
			werr = server.Flush()
		}
	}
	require.Error(t, werr, "writes to a peer that does not read must fail")
	// After a failed write there is no close handshake to wait for (it
	// would take coder/websocket's five seconds).
	start := time.Now()
	require.NoError(t, server.Close(transport.StatusGoingAway, ""))
	rec.waitClosed(t)
	assert.Less(t, time.Since(start), 3*time.Second)
}

// A peer that leaves a ping unanswered is dropped at once by Close,
// without waiting for an answer to the close frame either.
func TestWebSocketCloseAfterUnansweredPing(t *testing.T) {
	t.Parallel()
	accepted := make(chan transport.Conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := transport.WebSocket{}.Accept(w, r, nil)
		require.NoError(t, err)
		accepted <- c
	}))
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	wc, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	require.NoError(t, err)
	defer wc.CloseNow() // never reads, so never answers

	server := <-accepted
	rec := newRecorder()
	server.Start(rec)
	pctx, pcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer pcancel()
	require.ErrorIs(t, server.Ping(pctx), context.DeadlineExceeded)
	start := time.Now()
	require.NoError(t, server.Close(transport.StatusGoingAway, "keepalive timeout"))
	rec.waitClosed(t)
	assert.Less(t, time.Since(start), 3*time.Second, "no five-second close handshake")
}

func TestCloseStatus(t *testing.T) {
	t.Parallel()
	err := &transport.CloseError{Code: transport.StatusMessageTooBig, Reason: "too big"}
	assert.Equal(t, transport.StatusMessageTooBig, transport.CloseStatus(err))
	assert.Equal(t, transport.StatusMessageTooBig, transport.CloseStatus(errors.Join(errors.New("x"), err)))
	assert.Equal(t, transport.StatusCode(-1), transport.CloseStatus(errors.New("x")))
	assert.Equal(t, transport.StatusCode(-1), transport.CloseStatus(nil))
	assert.Contains(t, err.Error(), "1009")
}

func TestAcceptWithoutHijacker(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodGet, "/ws", nil)
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	w := httptest.NewRecorder() // cannot be hijacked
	_, err := transport.WebSocket{}.Accept(w, r, nil)
	assert.Error(t, err)
}

func TestDialFailure(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.NotFoundHandler())
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := transport.WebSocket{}.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	assert.Error(t, err)
}

// ReadTimeout bounds the time the rest of a message may take once it has
// begun: a message whose fragments arrive within it is delivered, so is
// one that follows a longer idle spell, and one that takes longer closes
// the connection with 1008 and HandleClose gets ErrReadTimeout.
func TestWebSocketReadTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	accepted := make(chan transport.Conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := transport.WebSocket{}.Accept(w, r, &transport.AcceptOptions{ReadTimeout: timeout})
		require.NoError(t, err)
		accepted <- c
	}))
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wc, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	require.NoError(t, err)
	defer wc.CloseNow()
	server := <-accepted
	rec := newRecorder()
	server.Start(rec)
	readErr := make(chan error, 1)
	go func() {
		for { // answers the close handshake
			if _, _, err := wc.Read(ctx); err != nil {
				readErr <- err
				return
			}
		}
	}()

	// fragments sends a message of n fragments, gap apart; each is larger
	// than the library's write buffer, so it goes out at once.
	const size = 8 << 10
	fragments := func(n int, gap time.Duration) error {
		w, err := wc.Writer(ctx, websocket.MessageBinary)
		if err != nil {
			return err
		}
		for i := range n {
			if i > 0 {
				time.Sleep(gap) // real time: the client is slow on purpose
			}
			if _, err := w.Write(bytes.Repeat([]byte{byte('a' + i)}, size)); err != nil {
				return err
			}
		}
		return w.Close()
	}
	require.NoError(t, fragments(3, 50*time.Millisecond))
	assert.Len(t, rec.next(t).data, 3*size)
	time.Sleep(2 * timeout) // real time: idle between messages, longer than the read timeout, is not bounded
	require.NoError(t, fragments(2, 10*time.Millisecond))
	assert.Len(t, rec.next(t).data, 2*size)

	start := time.Now()
	fragments(20, 100*time.Millisecond) // 1.9s: fails once the server has closed
	assert.ErrorIs(t, rec.waitClosed(t), transport.ErrReadTimeout)
	assert.GreaterOrEqual(t, time.Since(start), timeout)
	rec.quiet(t, 10*time.Millisecond)
	select {
	case err := <-readErr:
		assert.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(err))
	case <-time.After(5 * time.Second):
		t.Fatal("the client saw no close")
	}
}
