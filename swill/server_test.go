package swill_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/memtransport"
)

// waitFor bounds every wait of these tests: long enough never to fail a
// healthy run on a loaded machine, short enough to report a hang.
const waitFor = 5 * time.Second

// wireClient speaks raw swill/1 frames over a real WebSocket connection.
type wireClient struct {
	t    testing.TB
	conn *websocket.Conn
	in   chan reply
	done chan struct{}
	err  error // why the read loop ended, once done is closed
}

// reply is one response frame received.
type reply struct {
	wire.Response
	raw []byte
}

type dialOptions struct {
	subprotocols []string
	header       http.Header
	query        string
	onPing       func() // called for each ping the server sends, before the pong
}

// dialWire connects to a server started with swilltest.Start. The
// connection is closed when the test ends.
func dialWire(t testing.TB, srv *swilltest.Server) *wireClient {
	t.Helper()
	return dialWireWith(t, srv.URL, dialOptions{})
}

func dialWireWith(t testing.TB, url string, o dialOptions) *wireClient {
	t.Helper()
	if o.subprotocols == nil {
		o.subprotocols = []string{rpc.Subprotocol}
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	dopts := &websocket.DialOptions{Subprotocols: o.subprotocols, HTTPHeader: o.header}
	if o.onPing != nil {
		dopts.OnPingReceived = func(context.Context, []byte) bool { o.onPing(); return true }
	}
	conn, _, err := websocket.Dial(ctx, url+o.query, dopts)
	require.NoError(t, err)
	conn.SetReadLimit(64 << 20)
	c := &wireClient{t: t, conn: conn, in: make(chan reply, 4096), done: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(func() {
		conn.CloseNow()
		<-c.done
	})
	return c
}

func (c *wireClient) readLoop() {
	defer close(c.done)
	for {
		typ, b, err := c.conn.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		if typ != websocket.MessageBinary {
			c.err = fmt.Errorf("server sent a text frame %q", b)
			return
		}
		var r reply
		if err := wire.ParseResponse(b, &r.Response); err != nil {
			c.err = fmt.Errorf("server sent a malformed frame % x: %w", b, err)
			return
		}
		r.raw = b
		c.in <- r
	}
}

// sendRaw writes one binary frame as it is.
func (c *wireClient) sendRaw(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(c.t, c.conn.Write(ctx, websocket.MessageBinary, b))
}

// send writes a request frame.
func (c *wireClient) send(seq int64, name string, typ wire.FrameType, data any, md rpc.Metadata) {
	c.t.Helper()
	b := wire.GetBuffer()
	defer wire.PutBuffer(b)
	enc := wire.GetEncoder()
	defer wire.PutEncoder(enc)
	require.NoError(c.t, enc.Request(b, seq, name, typ, data, md))
	c.sendRaw(b.B)
}

func (c *wireClient) msg(seq int64, name string, data any) {
	c.t.Helper()
	c.send(seq, name, wire.TypeMessage, data, nil)
}

func (c *wireClient) end(seq int64, name string) {
	c.t.Helper()
	c.send(seq, name, wire.TypeEndOfStream, nil, nil)
}

func (c *wireClient) cancel(seq int64, name string) {
	c.t.Helper()
	c.send(seq, name, wire.TypeCancel, nil, nil)
}

// recv returns the next frame.
func (c *wireClient) recv() reply {
	c.t.Helper()
	select {
	case r := <-c.in:
		return r
	case <-c.done:
		select {
		case r := <-c.in:
			return r
		default:
		}
		c.t.Fatalf("connection ended while waiting for a frame: %v", c.err)
	case <-time.After(waitFor):
		c.t.Fatalf("no frame within %v", waitFor)
	}
	return reply{}
}

// quiet checks that no frame arrives for d.
func (c *wireClient) quiet(d time.Duration) {
	c.t.Helper()
	select {
	case r := <-c.in:
		c.t.Fatalf("unexpected frame % x", r.raw)
	case <-time.After(d):
	}
}

// closed waits for the server to end the connection and returns the
// close status it sent (-1 for none).
func (c *wireClient) closed() websocket.StatusCode {
	c.t.Helper()
	select {
	case <-c.done:
		return websocket.CloseStatus(c.err)
	case <-time.After(waitFor):
		c.t.Fatalf("connection still open after %v", waitFor)
	}
	return -1
}

// alive checks that the connection still serves calls: add(20, 22).
func (c *wireClient) alive() {
	c.t.Helper()
	const seq = 987654
	c.msg(seq, "add", []int{20, 22})
	r := c.recv()
	require.Equal(c.t, int64(seq), r.Seq, "liveness check: frame % x", r.raw)
	require.Equal(c.t, wire.TypeMessage, r.Type, "liveness check: frame % x", r.raw)
	require.Equal(c.t, int64(42), r.int(c.t))
}

func (r reply) value(t testing.TB) any {
	t.Helper()
	var v any
	require.NoError(t, codec.Unmarshal(r.Data, &v))
	return v
}

func (r reply) int(t testing.TB) int64 {
	t.Helper()
	var n int64
	require.NoError(t, codec.Unmarshal(r.Data, &n), "frame % x", r.raw)
	return n
}

// rpcErr decodes an ERROR frame.
func (r reply) rpcErr(t testing.TB) *rpc.Error {
	t.Helper()
	require.Equal(t, wire.TypeError, r.Type, "want an ERROR frame, got % x", r.raw)
	e, err := wire.DecodeError(r.Data)
	require.NoError(t, err)
	return e
}

// num turns any decoded MsgPack integer into an int64.
func num(v any) any {
	switch n := v.(type) {
	case int8:
		return int64(n)
	case int16:
		return int64(n)
	case int32:
		return int64(n)
	case uint8:
		return int64(n)
	case uint16:
		return int64(n)
	case uint32:
		return int64(n)
	case uint64:
		return int64(n)
	}
	return v
}

// flat returns md with every integer value as an int64, for comparisons.
func flat(md rpc.Metadata) rpc.Metadata {
	if md == nil {
		return nil
	}
	out := rpc.Metadata{}
	for k, v := range md {
		out[k] = num(v)
	}
	return out
}

// withDemo returns the demo handlers plus hs.
func withDemo(hs ...*swill.Handler) []*swill.Handler {
	return append(demosvc.Handlers(), hs...)
}

// startServer serves hs (and the demo handlers) on a loopback port.
func startServer(t testing.TB, hs []*swill.Handler, opts ...swill.Option) *swilltest.Server {
	t.Helper()
	srv := swilltest.NewServer(opts...)
	require.NoError(t, srv.Register(hs...))
	return swilltest.Start(t, srv)
}

// gate lets a test see handlers start, release them, and see their
// contexts end.
type gate struct {
	started chan int64
	ctxDone chan int64
	release chan struct{}
	once    sync.Once
}

func newGate() *gate {
	return &gate{started: make(chan int64, 1024), ctxDone: make(chan int64, 1024), release: make(chan struct{})}
}

// open releases every handler waiting on the gate.
func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

// wait blocks the handler of ctx until the gate opens (nil) or its
// context ends (the context's error, after signalling ctxDone).
func (g *gate) wait(ctx context.Context) error {
	seq := swill.CallFromContext(ctx).Seq()
	g.started <- seq
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		g.ctxDone <- seq
		return ctx.Err()
	}
}

func recvSeq(t testing.TB, ch chan int64, what string) int64 {
	t.Helper()
	select {
	case seq := <-ch:
		return seq
	case <-time.After(waitFor):
		t.Fatalf("%s: nothing within %v", what, waitFor)
	}
	return 0
}

func (g *gate) waitStarted(t testing.TB) int64 {
	t.Helper()
	return recvSeq(t, g.started, "handler start")
}
func (g *gate) waitCtxDone(t testing.TB) int64 {
	t.Helper()
	return recvSeq(t, g.ctxDone, "handler context done")
}

// gateHandlers returns one handler of each kind, named g.unary,
// g.server, g.client and g.bidi, that wait on g before ending.
func gateHandlers(g *gate) []*swill.Handler {
	return []*swill.Handler{
		swill.Unary("g.unary", func(ctx context.Context, n int) (int, error) {
			return n, g.wait(ctx)
		}),
		swill.ServerStream("g.server", func(ctx context.Context, n int, out chan<- int) error {
			out <- n
			return g.wait(ctx)
		}),
		swill.ClientStream("g.client", func(ctx context.Context, in <-chan int) (int, error) {
			return 0, g.wait(ctx)
		}),
		swill.BidiStream("g.bidi", func(ctx context.Context, in <-chan int, out chan<- int) error {
			return g.wait(ctx)
		}),
	}
}

func TestUnaryCall(t *testing.T) {
	t.Parallel()
	srv := swilltest.StartDemo(t)
	c := dialWire(t, srv)
	c.msg(1, "add", []int{1, 2})
	r := c.recv()
	assert.Equal(t, "950103"+"00c0c0", fmt.Sprintf("%x", r.raw), "the protocol's example, byte for byte")

	c.msg(2, "add", []int{-5, 1 << 40})
	r = c.recv()
	assert.Equal(t, int64(2), r.Seq)
	assert.Equal(t, int64(1<<40-5), r.int(t))
	c.quiet(50 * time.Millisecond)
}

func TestServerStreamCall(t *testing.T) {
	t.Parallel()
	srv := swilltest.StartDemo(t)
	c := dialWire(t, srv)
	c.msg(1, "countdown", 3)
	for _, want := range []int64{3, 2, 1} {
		r := c.recv()
		assert.Equal(t, wire.TypeMessage, r.Type)
		assert.Equal(t, want, r.int(t))
		assert.Nil(t, r.Leading)
		assert.Nil(t, r.Trailing)
	}
	r := c.recv()
	assert.Equal(t, "9501c001c081a5746f74616c03", fmt.Sprintf("%x", r.raw), "END_OF_STREAM with the trailing metadata")

	c.msg(2, "countdown", 0)
	r = c.recv()
	assert.Equal(t, wire.TypeEndOfStream, r.Type, "a stream with no item sends only END_OF_STREAM")
	assert.Equal(t, rpc.Metadata{"total": int64(0)}, flat(r.Trailing))
	c.quiet(50 * time.Millisecond)
}

func TestClientStreamCall(t *testing.T) {
	t.Parallel()
	srv := swilltest.StartDemo(t)
	c := dialWire(t, srv)
	for i := 1; i <= 10; i++ {
		c.msg(1, "sum", i)
	}
	c.end(1, "sum")
	r := c.recv()
	assert.Equal(t, wire.TypeMessage, r.Type)
	assert.Equal(t, int64(55), r.int(t))

	c.end(2, "sum") // END_OF_STREAM for a call that is not open is ignored
	c.quiet(100 * time.Millisecond)

	c.send(3, "sum", wire.TypeMetadata, nil, rpc.Metadata{"k": "v"})
	c.end(3, "sum")
	r = c.recv()
	assert.Equal(t, int64(3), r.Seq)
	assert.Equal(t, int64(0), r.int(t), "a stream of no item")
	c.quiet(50 * time.Millisecond) // no END_OF_STREAM after a client stream's result
}

func TestBidiStreamCall(t *testing.T) {
	t.Parallel()
	srv := swilltest.StartDemo(t)
	c := dialWire(t, srv)
	// Items flow both ways as they come: each echo arrives before the
	// next item is sent.
	for _, v := range []any{int64(1), "two", []any{int64(3)}, map[string]any{"four": int64(4)}, nil} {
		c.msg(1, "echo", v)
		r := c.recv()
		assert.Equal(t, wire.TypeMessage, r.Type)
		got := r.value(t)
		if l, ok := got.([]any); ok {
			got = []any{num(l[0])}
		} else if m, ok := got.(map[string]any); ok {
			got = map[string]any{"four": num(m["four"])}
		} else {
			got = num(got)
		}
		assert.Equal(t, v, got)
	}
	c.end(1, "echo")
	r := c.recv()
	assert.Equal(t, wire.TypeEndOfStream, r.Type)
	assert.Equal(t, int64(1), r.Seq)
	c.quiet(50 * time.Millisecond)
}

// The server may end a bidirectional call before the client ends its
// stream.
func TestBidiServerEndsFirst(t *testing.T) {
	t.Parallel()
	srv := startServer(t, withDemo(swill.BidiStream("two", func(ctx context.Context, in <-chan int, out chan<- int) error {
		for i := 0; i < 2; i++ {
			out <- <-in * 10
		}
		return nil
	})))
	c := dialWire(t, srv)
	c.msg(1, "two", 1)
	c.msg(1, "two", 2)
	assert.Equal(t, int64(10), c.recv().int(t))
	assert.Equal(t, int64(20), c.recv().int(t))
	assert.Equal(t, wire.TypeEndOfStream, c.recv().Type)
	c.alive()
}

func TestHandlerErrors(t *testing.T) {
	t.Parallel()
	srv := startServer(t, withDemo(
		swill.Unary("plain", func(ctx context.Context, _ any) (int, error) {
			return 0, errors.New("database password is hunter2")
		}),
		swill.Unary("wrapped", func(ctx context.Context, _ any) (int, error) {
			return 0, fmt.Errorf("loading: %w", rpc.NewError(rpc.CodeForbidden, "not yours").WithData(map[string]any{"owner": "bob"}))
		}),
		swill.ServerStream("streamfail", func(ctx context.Context, _ any, out chan<- int) error {
			out <- 1
			return rpc.NewError(409, "conflict")
		}),
		swill.ClientStream("clientfail", func(ctx context.Context, in <-chan int) (int, error) {
			return 0, rpc.NewError(rpc.CodeUnauthorized, "who are you")
		}),
	))
	c := dialWire(t, srv)

	c.msg(1, "fail", map[string]any{"code": 418, "message": "I'm a teapot"})
	e := c.recv().rpcErr(t)
	assert.Equal(t, rpc.Code(418), e.Code)
	assert.Equal(t, "I'm a teapot", e.Message)

	c.msg(2, "plain", nil)
	e = c.recv().rpcErr(t)
	assert.Equal(t, rpc.CodeInternal, e.Code)
	assert.Equal(t, "An internal server error occurred", e.Message, "a plain error's text stays on the server")

	c.msg(3, "wrapped", nil)
	e = c.recv().rpcErr(t)
	assert.Equal(t, rpc.CodeForbidden, e.Code)
	assert.Equal(t, "not yours", e.Message)
	assert.Equal(t, map[string]any{"owner": "bob"}, e.Data)

	c.msg(4, "streamfail", nil)
	assert.Equal(t, int64(1), c.recv().int(t))
	r := c.recv()
	assert.Equal(t, int64(4), r.Seq)
	assert.Equal(t, rpc.Code(409), r.rpcErr(t).Code, "a stream's error replaces its END_OF_STREAM")

	c.msg(5, "clientfail", 1)
	r = c.recv()
	assert.Equal(t, int64(5), r.Seq)
	assert.Equal(t, rpc.CodeUnauthorized, r.rpcErr(t).Code)
	c.quiet(50 * time.Millisecond)
	c.alive()
}

// The swill-timeout-ms request metadata bounds the handler's context.
func TestDeadlineMetadata(t *testing.T) {
	t.Parallel()
	g := newGate()
	srv := startServer(t, withDemo(append(gateHandlers(g),
		// left reports whether the context has a deadline, and whether
		// it has already passed.
		swill.Unary("left", func(ctx context.Context, _ any) ([2]bool, error) {
			_, has := ctx.Deadline()
			return [2]bool{has, ctx.Err() != nil}, nil
		}))...))
	c := dialWire(t, srv)
	left := func(seq int64, v any) [2]bool {
		t.Helper()
		c.send(seq, "left", wire.TypeMessage, nil, rpc.Metadata{rpc.TimeoutKey: v})
		r := c.recv()
		require.Equal(t, seq, r.Seq)
		var got [2]bool
		require.NoError(t, codec.Unmarshal(r.Data, &got), "% x", r.raw)
		return got
	}
	assert.Equal(t, [2]bool{true, false}, left(20, 60000))
	assert.Equal(t, [2]bool{true, false}, left(21, uint16(60000)))
	assert.Equal(t, [2]bool{true, false}, left(22, 60000.5))
	assert.Equal(t, [2]bool{true, true}, left(23, 0), "no time left")
	assert.Equal(t, [2]bool{true, true}, left(24, -5))
	assert.Equal(t, [2]bool{false, false}, left(25, "soon"), "a value that is not a number is ignored")
	// Values past what a time.Duration holds must not wrap into the past.
	assert.Equal(t, [2]bool{true, false}, left(26, uint64(1<<63)))
	assert.Equal(t, [2]bool{true, false}, left(27, int64(1<<62)))
	assert.Equal(t, [2]bool{true, false}, left(28, 1e300))

	c.send(1, "g.unary", wire.TypeMessage, 1, rpc.Metadata{rpc.TimeoutKey: 30})
	g.waitStarted(t)
	g.waitCtxDone(t)
	e := c.recv().rpcErr(t)
	assert.Equal(t, rpc.CodeTimeout, e.Code)

	c.send(2, "g.unary", wire.TypeMessage, 1, rpc.Metadata{rpc.TimeoutKey: 0})
	g.waitStarted(t)
	g.waitCtxDone(t)
	assert.Equal(t, rpc.CodeTimeout, c.recv().rpcErr(t).Code, "no time left")

	c.alive()
}

func TestSubprotocolNegotiation(t *testing.T) {
	t.Parallel()
	srv := swilltest.StartDemo(t)
	cases := []struct {
		offered []string
		want    string
	}{
		{[]string{"swill.v1"}, "swill.v1"},
		{[]string{"swill/1"}, "swill/1"},
		{[]string{"swill/1", "swill.v1"}, "swill.v1"},
		{[]string{"swill.v1", "swill/1"}, "swill.v1"},
		{[]string{"chat", "swill/1"}, "swill/1"},
	}
	for _, tc := range cases {
		c := dialWireWith(t, srv.URL, dialOptions{subprotocols: tc.offered})
		assert.Equal(t, tc.want, c.conn.Subprotocol(), "offered %v", tc.offered)
		c.alive()
	}
}

func TestHandshakeRefusals(t *testing.T) {
	t.Parallel()
	srv := swilltest.StartDemo(t)
	httpURL := "http" + strings.TrimPrefix(srv.URL, "ws")
	upgrade := func(protocols ...string) *http.Response {
		req, err := http.NewRequest(http.MethodGet, httpURL, nil)
		require.NoError(t, err)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		for _, p := range protocols {
			req.Header.Add("Sec-WebSocket-Protocol", p)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	body := func(resp *http.Response) string {
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}

	for _, offered := range [][]string{nil, {"chat"}, {"swill/2, swill.v2"}} {
		resp := upgrade(offered...)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "offered %v", offered)
		b := body(resp)
		assert.Contains(t, b, "swill.v1", "the refusal names both subprotocols")
		assert.Contains(t, b, "swill/1", "the refusal names both subprotocols")
	}

	resp := upgrade("chat, swill/1")
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode, "a comma-separated offer is understood")
	assert.Equal(t, "swill/1", resp.Header.Get("Sec-WebSocket-Protocol"))

	resp, err := http.Get(httpURL)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusUpgradeRequired, resp.StatusCode, "a plain GET")
	assert.Equal(t, "websocket", resp.Header.Get("Upgrade"))
	assert.Contains(t, body(resp), "WebSocket")
}

// Browsers from other origins are refused unless allowed; clients that
// send no Origin are always accepted.
func TestOriginCheck(t *testing.T) {
	t.Parallel()
	dial := func(url, origin string) error {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}, HTTPHeader: h})
		if err == nil {
			c.CloseNow()
		}
		return err
	}
	strict := swilltest.StartDemo(t)
	assert.NoError(t, dial(strict.URL, ""))
	assert.Error(t, dial(strict.URL, "https://evil.example"))
	host := strings.TrimPrefix(strict.URL, "ws://")
	host = host[:strings.Index(host, "/")]
	assert.NoError(t, dial(strict.URL, "http://"+host), "same origin")

	allowed := swilltest.StartDemo(t, swill.WithOriginPatterns("*.example.com"))
	assert.NoError(t, dial(allowed.URL, "https://app.example.com"))
	assert.Error(t, dial(allowed.URL, "https://evil.example"))

	// A front-end dev server on another port of the same machine (as
	// docs/server.md shows): the pattern matches the host with its port.
	dev := swilltest.StartDemo(t, swill.WithOriginPatterns("localhost:5173"))
	assert.NoError(t, dial(dev.URL, "http://localhost:5173"))
	assert.Error(t, dial(dev.URL, "http://localhost:3000"))
	assert.Error(t, dial(strict.URL, "http://localhost:5173"), "refused by default")

	open := swilltest.StartDemo(t, swill.WithInsecureSkipOriginCheck())
	assert.NoError(t, dial(open.URL, "https://evil.example"))
}

type ctxKey struct{}

// Per-connection state: a unique id, the upgrade request, values shared
// by the calls of one connection.
func TestConnState(t *testing.T) {
	t.Parallel()
	type seen struct {
		ID, Sub, Remote, Header, Cookie, Query, Value string
		SameConn                                      bool
	}
	srv := startServer(t, withDemo(
		swill.Unary("remember", func(ctx context.Context, v string) (codec.None, error) {
			swill.ConnFromContext(ctx).Set(ctxKey{}, v)
			return codec.None{}, nil
		}),
		swill.Unary("whoami", func(ctx context.Context, _ any) (seen, error) {
			conn := swill.ConnFromContext(ctx)
			r := conn.Request()
			var s seen
			s.ID, s.Sub, s.Remote = conn.ID(), conn.Subprotocol(), conn.RemoteAddr()
			s.Header = r.Header.Get("X-Api-Key")
			if ck, err := r.Cookie("session"); err == nil {
				s.Cookie = ck.Value
			}
			s.Query = r.URL.Query().Get("room")
			s.Value, _ = conn.Value(ctxKey{}).(string)
			s.SameConn = swill.CallFromContext(ctx).Conn() == conn && conn.Context().Err() == nil
			return s, nil
		}),
	))
	whoami := func(c *wireClient) seen {
		c.msg(1, "whoami", nil)
		r := c.recv()
		var s seen
		require.NoError(t, codec.Unmarshal(r.Data, &s), "% x", r.raw)
		return s
	}

	a := dialWireWith(t, srv.URL, dialOptions{
		subprotocols: []string{"swill/1"},
		header:       http.Header{"X-Api-Key": {"k1"}, "Cookie": {"session=abc; theme=dark"}},
		query:        "?room=7",
	})
	b := dialWire(t, srv)
	sa := whoami(a)
	assert.Len(t, sa.ID, 24)
	assert.Equal(t, "swill/1", sa.Sub)
	assert.Contains(t, sa.Remote, "127.0.0.1:")
	assert.Equal(t, "k1", sa.Header)
	assert.Equal(t, "abc", sa.Cookie)
	assert.Equal(t, "7", sa.Query)
	assert.Empty(t, sa.Value)
	assert.True(t, sa.SameConn)

	a.msg(2, "remember", "kept")
	assert.Nil(t, a.recv().value(t))
	assert.Equal(t, "kept", whoami(a).Value, "a value set by one call is seen by the next")
	assert.Equal(t, sa.ID, whoami(a).ID, "the id is stable")

	sb := whoami(b)
	assert.NotEqual(t, sa.ID, sb.ID, "ids are unique")
	assert.Empty(t, sb.Value, "values are per connection")
	assert.Empty(t, sb.Header)
	assert.Equal(t, "swill.v1", sb.Sub)
}

func TestCallFromContext(t *testing.T) {
	t.Parallel()
	type info struct {
		Name string `msgpack:"name"`
		Kind string `msgpack:"kind"`
		Seq  int64  `msgpack:"seq"`
		MD   any    `msgpack:"md"`
		Doc  string `msgpack:"doc"`
	}
	describe := func(ctx context.Context) info {
		call := swill.CallFromContext(ctx)
		return info{call.Name(), call.Kind().String(), call.Seq(), call.Metadata(), call.Handler().Doc()}
	}
	srv := startServer(t, withDemo(
		swill.Unary("u", func(ctx context.Context, _ any) (info, error) { return describe(ctx), nil }, swill.WithDoc("unary doc")),
		swill.ServerStream("s", func(ctx context.Context, _ any, out chan<- info) error { out <- describe(ctx); return nil }),
		swill.ClientStream("c", func(ctx context.Context, in <-chan any) (info, error) {
			for range in {
			}
			return describe(ctx), nil
		}),
		swill.BidiStream("b", func(ctx context.Context, in <-chan any, out chan<- info) error { out <- describe(ctx); return nil }),
	))
	assert.Nil(t, swill.CallFromContext(context.Background()))
	assert.Nil(t, swill.ConnFromContext(context.Background()))

	c := dialWire(t, srv)
	check := func(r reply, name, kind string, seq int64) {
		t.Helper()
		var got info
		require.NoError(t, codec.Unmarshal(r.Data, &got), "% x", r.raw)
		assert.Equal(t, name, got.Name)
		assert.Equal(t, kind, got.Kind)
		assert.Equal(t, seq, got.Seq)
		assert.Equal(t, map[string]any{}, got.MD, "request metadata is never nil")
	}
	c.msg(-7, "u", nil)
	r := c.recv()
	check(r, "u", "unary", -7)
	var got info
	require.NoError(t, codec.Unmarshal(r.Data, &got))
	assert.Equal(t, "unary doc", got.Doc)
	c.msg(1<<40, "s", nil)
	check(c.recv(), "s", "server_stream", 1<<40)
	c.recv()
	c.msg(3, "c", nil)
	c.end(3, "c")
	check(c.recv(), "c", "client_stream", 3)
	c.msg(4, "b", nil)
	check(c.recv(), "b", "bidi_stream", 4)
	assert.Equal(t, wire.TypeEndOfStream, c.recv().Type)
}

// The same server serves connections of any transport: here the
// in-memory one, through ServeConn.
func TestServeConnMemTransport(t *testing.T) {
	t.Parallel()
	g := newGate()
	srv := swilltest.NewServer()
	require.NoError(t, srv.Register(withDemo(gateHandlers(g)...)...))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		assert.NoError(t, srv.Shutdown(ctx))
	})

	client := newMemClient(t, srv)
	client.send(t, 1, "add", wire.TypeMessage, []int{2, 3}, nil)
	r := client.recv(t)
	assert.Equal(t, "950105"+"00c0c0", fmt.Sprintf("%x", r.raw))

	client.send(t, 2, "countdown", wire.TypeMessage, 2, nil)
	assert.Equal(t, int64(2), client.recv(t).int(t))
	assert.Equal(t, int64(1), client.recv(t).int(t))
	assert.Equal(t, wire.TypeEndOfStream, client.recv(t).Type)

	client.send(t, 3, "sum", wire.TypeMetadata, nil, rpc.Metadata{"k": "v"})
	client.send(t, 3, "sum", wire.TypeMessage, 4, nil)
	client.send(t, 3, "sum", wire.TypeEndOfStream, nil, nil)
	assert.Equal(t, int64(4), client.recv(t).int(t))

	// A call still running when the client goes away is cancelled.
	client.send(t, 4, "g.unary", wire.TypeMessage, 1, nil)
	g.waitStarted(t)
	client.conn.Close(transport.StatusNormalClosure, "")
	g.waitCtxDone(t)

	// A text frame closes the connection with 1003.
	other := newMemClient(t, srv)
	require.NoError(t, memtransport.WriteText(other.conn, []byte("hello")))
	assert.Equal(t, transport.StatusUnsupportedData, transport.CloseStatus(other.waitClosed(t)))
}

// memClient drives the client end of a memtransport pipe.
type memClient struct {
	conn   transport.Conn
	in     chan reply
	closed chan error
}

func newMemClient(t testing.TB, srv *swill.Server) *memClient {
	client, server := memtransport.Pipe(rpc.Subprotocol)
	c := &memClient{conn: client, in: make(chan reply, 1024), closed: make(chan error, 1)}
	client.Start(c)
	srv.ServeConn(server, nil)
	t.Cleanup(func() { client.Close(transport.StatusNormalClosure, "") })
	return c
}

func (c *memClient) HandleMessage(typ transport.MessageType, data []byte) {
	var r reply
	r.raw = bytes.Clone(data)
	if err := wire.ParseResponse(r.raw, &r.Response); err != nil {
		panic(err)
	}
	c.in <- r
}

func (c *memClient) HandleClose(err error) { c.closed <- err }

func (c *memClient) send(t testing.TB, seq int64, name string, typ wire.FrameType, data any, md rpc.Metadata) {
	t.Helper()
	b := wire.GetBuffer()
	defer wire.PutBuffer(b)
	enc := wire.GetEncoder()
	defer wire.PutEncoder(enc)
	require.NoError(t, enc.Request(b, seq, name, typ, data, md))
	require.NoError(t, c.conn.WriteMessage(b.B))
	require.NoError(t, c.conn.Flush())
}

func (c *memClient) recv(t testing.TB) reply {
	t.Helper()
	select {
	case r := <-c.in:
		return r
	case <-time.After(waitFor):
		t.Fatal("no frame")
	}
	return reply{}
}

func (c *memClient) waitClosed(t testing.TB) error {
	t.Helper()
	select {
	case err := <-c.closed:
		return err
	case <-time.After(waitFor):
		t.Fatal("not closed")
	}
	return nil
}

func TestRegister(t *testing.T) {
	t.Parallel()
	ok := func(name string) *swill.Handler {
		return swill.Unary(name, func(ctx context.Context, _ int) (int, error) { return 0, nil })
	}
	srv := swilltest.NewServer()
	require.NoError(t, srv.Register(ok("a"), ok("b")))
	require.NoError(t, srv.Register(ok("c")))

	cases := []struct {
		name    string
		hs      []*swill.Handler
		want    string
		is      error
		handler string
	}{
		{"duplicate of a registered name", []*swill.Handler{ok("d"), ok("a")}, `"a": name already registered`, swill.ErrDuplicateName, "a"},
		{"duplicate within the call", []*swill.Handler{ok("d"), ok("d")}, `"d": name already registered`, swill.ErrDuplicateName, "d"},
		{"reserved prefix", []*swill.Handler{ok("swill.mine")}, "reserved", swill.ErrReservedName, "swill.mine"},
		{"nil handler", []*swill.Handler{nil}, "swill: nil handler", swill.ErrNilHandler, ""},
		{"nil function", []*swill.Handler{swill.Unary[int, int]("e", nil)}, `swill: handler "e": nil function`, swill.ErrNilFunc, "e"},
		{"empty name", []*swill.Handler{ok("")}, "empty name", swill.ErrEmptyName, ""},
		{"channel request", []*swill.Handler{swill.Unary("f", func(ctx context.Context, _ chan int) (int, error) { return 0, nil })}, "cannot travel", swill.ErrUnsupportedType, "f"},
		{"function in a response field", []*swill.Handler{swill.ServerStream("g", func(ctx context.Context, _ int, out chan<- struct{ F func() }) error { return nil })}, "cannot travel", swill.ErrUnsupportedType, "g"},
	}
	for _, tc := range cases {
		err := srv.Register(tc.hs...)
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
		assert.ErrorIs(t, err, tc.is, tc.name)
		var re *swill.RegisterError
		if assert.ErrorAs(t, err, &re, tc.name) {
			assert.Equal(t, tc.handler, re.Name, tc.name)
		}
	}
	// Several refused handlers are all reported.
	err := srv.Register(ok("a"), swill.Unary[int, int]("h", nil))
	assert.ErrorIs(t, err, swill.ErrDuplicateName)
	assert.ErrorIs(t, err, swill.ErrNilFunc)
	var names []string
	for _, h := range srv.Handlers() {
		names = append(names, h.Name())
	}
	assert.Equal(t, []string{"a", "b", "c"}, names, "a failed Register registers nothing; built-in calls are not listed")
}

// Registering concurrently with serving is safe.
func TestRegisterWhileServing(t *testing.T) {
	t.Parallel()
	srv := startServer(t, withDemo())
	c := dialWire(t, srv)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			assert.NoError(t, srv.Register(swill.Unary(fmt.Sprintf("late%d", i), func(ctx context.Context, n int) (int, error) { return n, nil })))
		}
	}()
	for i := 0; i < 50; i++ {
		c.alive()
	}
	wg.Wait()
	c.msg(1, "late49", 5)
	assert.Equal(t, int64(5), c.recv().int(t))
}
