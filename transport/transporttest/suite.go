package transporttest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/internal/wstest"
)

// Subprotocols the suite negotiates: the server prefers the first.
const (
	preferred = rpc.Subprotocol
	legacy    = rpc.LegacySubprotocol
)

var serverProtocols = []string{preferred, legacy}

// Run runs the conformance suite against the transport f returns, one
// subtest per behaviour. Subtests run one after another: each checks
// that it leaves no goroutine behind. Release and FlushOnIdle check the
// optional [transport.Releaser] contract, and skip when the acceptor's
// connections are not Releasers.
func Run(t *testing.T, f Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"Subprotocol", testSubprotocol},
		{"EchoSizes", testEchoSizes},
		{"ManyMessages", testManyMessages},
		{"Batching", testBatching},
		{"ManyConnections", testManyConnections},
		{"ReadLimit", testReadLimit},
		{"CloseFromClient", testCloseFromClient},
		{"CloseFromServer", testCloseFromServer},
		{"CloseAfterMessages", testCloseAfterMessages},
		{"CloseConcurrent", testCloseConcurrent},
		{"CloseDuringWrites", testCloseDuringWrites},
		{"CloseHandshake", testCloseHandshake},
		{"PeerVanishes", testPeerVanishes},
		{"ProtocolErrors", testProtocolErrors},
		{"Ping", testPing},
		{"TextFrames", testTextFrames},
		{"Fragmented", testFragmented},
		{"Origin", testOrigin},
		{"NotWebSocket", testNotWebSocket},
		{"DialErrors", testDialErrors},
		{"Release", testRelease},
		{"FlushOnIdle", testFlushOnIdle},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, f) })
	}
}

func testSubprotocol(t *testing.T, f Factory) {
	fx := start(t, f, serverConfig{opts: transport.AcceptOptions{Subprotocols: serverProtocols}})
	cases := []struct {
		offer []string
		want  string
	}{
		{[]string{legacy, preferred}, preferred},
		{[]string{preferred, legacy}, preferred},
		{[]string{legacy}, legacy},
		{[]string{preferred}, preferred},
		{[]string{"other"}, ""},
		{nil, ""},
	}
	for _, tc := range cases {
		c, s := fx.pair(&transport.DialOptions{Subprotocols: tc.offer})
		if got := c.conn.Subprotocol(); got != tc.want {
			t.Errorf("offer %q: client negotiated %q, want %q", tc.offer, got, tc.want)
		}
		if got := s.conn.Subprotocol(); got != tc.want {
			t.Errorf("offer %q: server negotiated %q, want %q", tc.offer, got, tc.want)
		}
	}
}

// sizes covers every frame length encoding and its edges, messages that
// fit in typical read buffers and messages that do not.
var sizes = []int{0, 1, 2, 125, 126, 127, 1000, 4095, 4096, 4097, 16 << 10, 65535, 65536, 65537, 100_000, 300_000, 1 << 20}

func testEchoSizes(t *testing.T, f Factory) {
	const limit = 2 << 20
	fx := start(t, f, serverConfig{echo: true, opts: transport.AcceptOptions{ReadLimit: limit}})
	c, _ := fx.pair(&transport.DialOptions{ReadLimit: limit})
	// Send everything first, then read: the echoes queue up meanwhile.
	for i, n := range sizes {
		send(t, c.conn, payload(i, n))
	}
	for i, n := range sizes {
		expectMessage(t, c, transport.Binary, payload(i, n))
	}
}

func testManyMessages(t *testing.T, f Factory) {
	const count = 5000
	fx := start(t, f, serverConfig{echo: true})
	c, s := fx.pair(nil)
	for i := 0; i < count; i++ {
		if err := c.conn.WriteMessage(payload(i, i%300)); err != nil {
			t.Fatalf("WriteMessage %d: %v", i, err)
		}
		if i%100 == 99 {
			if err := c.conn.Flush(); err != nil {
				t.Fatalf("Flush: %v", err)
			}
		}
	}
	if err := c.conn.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	for i := 0; i < count; i++ {
		expectMessage(t, s, transport.Binary, payload(i, i%300))
	}
	for i := 0; i < count; i++ {
		expectMessage(t, c, transport.Binary, payload(i, i%300))
	}
}

// testBatching writes several messages, reusing one buffer, then flushes
// once: each must arrive as its own message with its own content.
func testBatching(t *testing.T, f Factory) {
	const count = 100
	writeBatch := func(c transport.Conn) error {
		buf := make([]byte, 64)
		for i := 0; i < count; i++ {
			copy(buf, payload(i, len(buf)))
			if err := c.WriteMessage(buf[:1+i%len(buf)]); err != nil {
				return err
			}
		}
		return c.Flush()
	}
	expectBatch := func(p *peer) {
		for i := 0; i < count; i++ {
			expectMessage(t, p, transport.Binary, payload(i, 64)[:1+i%64])
		}
	}
	fx := start(t, f, serverConfig{onAccept: func(p *peer) {
		if err := writeBatch(p.conn); err != nil {
			p.problem("server batch: %v", err)
		}
	}})
	c, s := fx.pair(nil)
	expectBatch(c)
	if err := writeBatch(c.conn); err != nil {
		t.Fatalf("client batch: %v", err)
	}
	expectBatch(s)
}

func testManyConnections(t *testing.T, f Factory) {
	const conns, count = 16, 200
	fx := start(t, f, serverConfig{echo: true})
	msg := func(k, i int) []byte { return payload(k*count+i, (k*131+i*17)%2048) }
	clients := make([]*peer, conns)
	for k := range clients {
		clients[k] = fx.dial(nil)
	}
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for k, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < count; i++ {
				if err := c.conn.WriteMessage(msg(k, i)); err != nil {
					errs <- fmt.Errorf("conn %d: WriteMessage: %w", k, err)
					return
				}
				if i%10 == 9 || i == count-1 {
					if err := c.conn.Flush(); err != nil {
						errs <- fmt.Errorf("conn %d: Flush: %w", k, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for k, c := range clients {
		for i := 0; i < count; i++ {
			expectMessage(t, c, transport.Binary, msg(k, i))
		}
	}
}

func testReadLimit(t *testing.T, f Factory) {
	const limit = 1000
	t.Run("Server", func(t *testing.T) {
		fx := start(t, f, serverConfig{echo: true, opts: transport.AcceptOptions{ReadLimit: limit}})
		c, s := fx.pair(nil)
		send(t, c.conn, payload(1, limit))
		expectMessage(t, c, transport.Binary, payload(1, limit))
		send(t, c.conn, payload(2, limit+1))
		err := c.waitClosed(t)
		if code := transport.CloseStatus(err); code != transport.StatusMessageTooBig {
			t.Errorf("client: HandleClose(%v): close status %d, want %d", err, code, transport.StatusMessageTooBig)
		}
		if err := s.waitClosed(t); err == nil {
			t.Error("server: HandleClose(nil) after exceeding the read limit")
		}
		if n := s.received(); n != 1 {
			t.Errorf("server delivered %d messages, want 1", n)
		}
	})
	t.Run("Client", func(t *testing.T) {
		fx := start(t, f, serverConfig{})
		c, s := fx.pair(&transport.DialOptions{ReadLimit: limit})
		send(t, s.conn, payload(1, limit))
		expectMessage(t, c, transport.Binary, payload(1, limit))
		send(t, s.conn, payload(2, limit+1))
		err := s.waitClosed(t)
		if code := transport.CloseStatus(err); code != transport.StatusMessageTooBig {
			t.Errorf("server: HandleClose(%v): close status %d, want %d", err, code, transport.StatusMessageTooBig)
		}
		if err := c.waitClosed(t); err == nil {
			t.Error("client: HandleClose(nil) after exceeding the read limit")
		}
	})
}

// expectCloseError checks that err carries the peer's close frame.
func expectCloseError(t *testing.T, who string, err error, code transport.StatusCode, reason string) {
	t.Helper()
	var ce *transport.CloseError
	if !errors.As(err, &ce) {
		t.Errorf("%s: HandleClose(%v), want a *transport.CloseError", who, err)
		return
	}
	if ce.Code != code || ce.Reason != reason {
		t.Errorf("%s: closed with %d %q, want %d %q", who, ce.Code, ce.Reason, code, reason)
	}
}

// expectClosedLocally checks the error of the side that called Close.
func expectClosedLocally(t *testing.T, who string, p *peer) {
	t.Helper()
	if err := p.waitClosed(t); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("%s: HandleClose(%v), want transport.ErrClosed", who, err)
	}
	if err := p.conn.WriteMessage([]byte("late")); err == nil {
		if err := p.conn.Flush(); err == nil {
			t.Errorf("%s: WriteMessage and Flush succeed after Close", who)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := p.conn.Ping(ctx); err == nil {
		t.Errorf("%s: Ping succeeds after Close", who)
	}
	if err := p.conn.Close(transport.StatusNormalClosure, "again"); err != nil {
		t.Errorf("%s: second Close: %v", who, err)
	}
}

func testCloseFromClient(t *testing.T, f Factory) {
	fx := start(t, f, serverConfig{})
	c, s := fx.pair(nil)
	if err := c.conn.Close(4001, "client says bye"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	expectCloseError(t, "server", s.waitClosed(t), 4001, "client says bye")
	expectClosedLocally(t, "client", c)
}

func testCloseFromServer(t *testing.T, f Factory) {
	fx := start(t, f, serverConfig{})
	for _, code := range []transport.StatusCode{transport.StatusNormalClosure, transport.StatusGoingAway, transport.StatusPolicyViolation, 4999} {
		c, s := fx.pair(nil)
		reason := fmt.Sprintf("server closes with %d", code)
		if err := s.conn.Close(code, reason); err != nil {
			t.Fatalf("Close: %v", err)
		}
		expectCloseError(t, "client", c.waitClosed(t), code, reason)
		expectClosedLocally(t, "server", s)
	}
}

// testCloseAfterMessages checks that messages flushed before Close are
// all delivered, before HandleClose.
func testCloseAfterMessages(t *testing.T, f Factory) {
	const count = 100
	writeAndClose := func(c transport.Conn, code transport.StatusCode, reason string) {
		for i := 0; i < count; i++ {
			c.WriteMessage(payload(i, 1+i))
		}
		c.Flush()
		c.Close(code, reason)
	}
	t.Run("FromServer", func(t *testing.T) {
		fx := start(t, f, serverConfig{onAccept: func(p *peer) { writeAndClose(p.conn, 4000, "done") }})
		c, s := fx.pair(nil)
		for i := 0; i < count; i++ {
			expectMessage(t, c, transport.Binary, payload(i, 1+i))
		}
		expectCloseError(t, "client", c.waitClosed(t), 4000, "done")
		s.waitClosed(t)
	})
	t.Run("FromClient", func(t *testing.T) {
		fx := start(t, f, serverConfig{})
		c, s := fx.pair(nil)
		writeAndClose(c.conn, 4002, "client done")
		for i := 0; i < count; i++ {
			expectMessage(t, s, transport.Binary, payload(i, 1+i))
		}
		expectCloseError(t, "server", s.waitClosed(t), 4002, "client done")
		c.waitClosed(t)
	})
}

func testCloseConcurrent(t *testing.T, f Factory) {
	fx := start(t, f, serverConfig{})
	t.Run("SameSide", func(t *testing.T) {
		c, s := fx.pair(nil)
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.conn.Close(4003, "many"); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
		}
		wg.Wait()
		expectCloseError(t, "client", c.waitClosed(t), 4003, "many")
		if err := s.waitClosed(t); !errors.Is(err, transport.ErrClosed) {
			t.Errorf("server: HandleClose(%v), want transport.ErrClosed", err)
		}
	})
	t.Run("BothSides", func(t *testing.T) {
		c, s := fx.pair(nil)
		var wg sync.WaitGroup
		for _, p := range []*peer{c, s} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.conn.Close(transport.StatusNormalClosure, p.name)
			}()
		}
		wg.Wait()
		// Each side may see its own Close or the peer's close frame
		// first; either way it hears of the end exactly once.
		c.waitClosed(t)
		s.waitClosed(t)
	})
}

// testCloseDuringWrites closes a connection while another goroutine is
// writing to it as fast as it can.
func testCloseDuringWrites(t *testing.T, f Factory) {
	for _, side := range []string{"server", "client"} {
		t.Run(side, func(t *testing.T) {
			fx := start(t, f, serverConfig{})
			c, s := fx.pair(nil)
			writer, reader := s, c
			if side == "client" {
				writer, reader = c, s
			}
			stopped := make(chan error, 1)
			fx.goTracked(func() {
				msg := payload(7, 16<<10)
				for {
					if err := writer.conn.WriteMessage(msg); err != nil {
						stopped <- err
						return
					}
					if err := writer.conn.Flush(); err != nil {
						stopped <- err
						return
					}
				}
			})
			for reader.received() < 20 {
				reader.recv(t)
			}
			if err := writer.conn.Close(transport.StatusNormalClosure, "enough"); err != nil {
				t.Fatalf("Close: %v", err)
			}
			select {
			case err := <-stopped:
				if err == nil {
					t.Error("writer stopped without an error")
				}
			case <-time.After(waitTimeout):
				t.Fatalf("writes still succeed %v after Close", waitTimeout)
			}
			err := reader.waitClosed(t)
			if code := transport.CloseStatus(err); code != transport.StatusNormalClosure {
				t.Errorf("%s: HandleClose(%v), want close status 1000", reader.name, err)
			}
			writer.waitClosed(t)
		})
	}
}

// rawClient is the client of another implementation, for what the
// interface cannot express.
func rawClient(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		Subprotocols: []string{preferred},
		HTTPClient:   &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	})
	if err != nil {
		t.Fatalf("raw dial: %v", err)
	}
	return c
}

// rawServer serves connections with another implementation, handing
// each to serve with a context that ends with the test.
func rawServer(t *testing.T, serve func(ctx context.Context, c *websocket.Conn)) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{preferred}})
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer c.CloseNow()
		serve(ctx, c)
	}))
	t.Cleanup(func() {
		cancel()
		hs.Close()
		wg.Wait()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

// testCloseHandshake checks with another implementation that a close
// frame is answered with one carrying the same code, so that the peer
// sees its close handshake complete.
func testCloseHandshake(t *testing.T, f Factory) {
	t.Run("Accepted", func(t *testing.T) {
		fx := start(t, f, serverConfig{})
		raw := rawClient(t, fx.url)
		s := fx.accept()
		if err := raw.Close(4005, "handshake"); err != nil {
			t.Errorf("raw client: close handshake: %v", err)
		}
		expectCloseError(t, "server", s.waitClosed(t), 4005, "handshake")
	})
	t.Run("Dialed", func(t *testing.T) {
		fx := start(t, f, serverConfig{})
		result := make(chan error, 1)
		fx.url = rawServer(t, func(ctx context.Context, c *websocket.Conn) {
			result <- c.Close(4006, "handshake")
		})
		c := fx.dial(&transport.DialOptions{Subprotocols: []string{preferred}})
		expectCloseError(t, "client", c.waitClosed(t), 4006, "handshake")
		select {
		case err := <-result:
			if err != nil {
				t.Errorf("raw server: close handshake: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Error("raw server: close handshake still running")
		}
	})
}

func testPeerVanishes(t *testing.T, f Factory) {
	t.Run("Client", func(t *testing.T) {
		fx := start(t, f, serverConfig{})
		raw := rawClient(t, fx.url)
		s := fx.accept()
		raw.CloseNow()
		err := s.waitClosed(t)
		if err == nil || errors.Is(err, transport.ErrClosed) || transport.CloseStatus(err) != -1 {
			t.Errorf("server: HandleClose(%v), want an error that is neither ErrClosed nor a close frame", err)
		}
	})
	t.Run("Server", func(t *testing.T) {
		fx := start(t, f, serverConfig{})
		vanish := make(chan struct{})
		fx.url = rawServer(t, func(ctx context.Context, c *websocket.Conn) {
			select {
			case <-vanish:
			case <-ctx.Done():
			}
		})
		c := fx.dial(&transport.DialOptions{Subprotocols: []string{preferred}})
		close(vanish)
		err := c.waitClosed(t)
		if err == nil || errors.Is(err, transport.ErrClosed) || transport.CloseStatus(err) != -1 {
			t.Errorf("client: HandleClose(%v), want an error that is neither ErrClosed nor a close frame", err)
		}
	})
}

func testPing(t *testing.T, f Factory) {
	fx := start(t, f, serverConfig{})
	c, s := fx.pair(nil)
	for _, p := range []*peer{c, s} {
		for i := 0; i < 3; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			err := p.conn.Ping(ctx)
			cancel()
			if err != nil {
				t.Errorf("%s: Ping: %v", p.name, err)
			}
		}
	}

	// Concurrent pings each get their own pong.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			if err := c.conn.Ping(ctx); err != nil {
				t.Errorf("concurrent Ping: %v", err)
			}
		}()
	}
	wg.Wait()

	// A peer that reads nothing answers no ping: Ping ends with ctx.
	raw := rawClient(t, fx.url)
	silent := fx.accept()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	err := silent.conn.Ping(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Ping to a peer that does not read: %v, want context.DeadlineExceeded", err)
	}
	raw.CloseNow()
	silent.waitClosed(t)

	// Pings from the peer are answered.
	raw = rawClient(t, fx.url)
	fx.accept()
	ctx, cancel = context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	readCtx := raw.CloseRead(ctx)
	if err := raw.Ping(ctx); err != nil {
		t.Errorf("ping from the peer: %v", err)
	}
	raw.Close(websocket.StatusNormalClosure, "")
	<-readCtx.Done()
}

func testTextFrames(t *testing.T, f Factory) {
	t.Run("Accepted", func(t *testing.T) {
		fx := start(t, f, serverConfig{})
		raw := rawClient(t, fx.url)
		defer raw.CloseNow()
		s := fx.accept()
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		raw.Write(ctx, websocket.MessageText, []byte("héllo"))
		raw.Write(ctx, websocket.MessageBinary, []byte{0xc0})
		expectMessage(t, s, transport.Text, []byte("héllo"))
		expectMessage(t, s, transport.Binary, []byte{0xc0})
	})
	t.Run("Dialed", func(t *testing.T) {
		fx := start(t, f, serverConfig{})
		fx.url = rawServer(t, func(ctx context.Context, c *websocket.Conn) {
			c.Write(ctx, websocket.MessageText, []byte("text from the server"))
			c.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3})
			<-ctx.Done()
		})
		c := fx.dial(&transport.DialOptions{Subprotocols: []string{preferred}})
		expectMessage(t, c, transport.Text, []byte("text from the server"))
		expectMessage(t, c, transport.Binary, []byte{1, 2, 3})
	})
}

// testFragmented sends messages split into several frames.
func testFragmented(t *testing.T, f Factory) {
	const limit = 1000
	fx := start(t, f, serverConfig{opts: transport.AcceptOptions{ReadLimit: limit}})
	raw := rawClient(t, fx.url)
	defer raw.CloseNow()
	s := fx.accept()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	write := func(typ websocket.MessageType, parts ...[]byte) {
		t.Helper()
		w, err := raw.Writer(ctx, typ)
		if err != nil {
			t.Fatalf("raw Writer: %v", err)
		}
		for _, p := range parts {
			if _, err := w.Write(p); err != nil {
				t.Fatalf("raw Write: %v", err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatalf("raw Close: %v", err)
		}
	}
	write(websocket.MessageBinary, payload(1, 300), payload(2, 1), payload(3, 200))
	write(websocket.MessageText, []byte("frag"), []byte("mented"))
	write(websocket.MessageBinary, payload(4, 10))
	expectMessage(t, s, transport.Binary, append(append(payload(1, 300), payload(2, 1)...), payload(3, 200)...))
	expectMessage(t, s, transport.Text, []byte("fragmented"))
	expectMessage(t, s, transport.Binary, payload(4, 10))

	// Fragments count together against the read limit.
	w, err := raw.Writer(ctx, websocket.MessageBinary)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(payload(5, 600))
	w.Write(payload(6, 600))
	w.Close()
	_, _, err = raw.Read(ctx)
	if code := websocket.CloseStatus(err); code != websocket.StatusMessageTooBig {
		t.Errorf("raw client read %v, want close status 1009", err)
	}
	s.waitClosed(t)
	if n := s.received(); n != 3 {
		t.Errorf("server delivered %d messages, want 3", n)
	}
}

// upgrade sends a handshake by hand and returns the response status.
func upgrade(t *testing.T, url string, header http.Header) int {
	t.Helper()
	key := make([]byte, 16)
	rand.Read(key)
	req, err := http.NewRequest(http.MethodGet, "http"+strings.TrimPrefix(url, "ws"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(key))
	req.Header.Set("Sec-WebSocket-Protocol", preferred)
	for k, v := range header {
		req.Header[k] = v
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatalf("upgrade request: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func testOrigin(t *testing.T, f Factory) {
	cases := []struct {
		name   string
		opts   transport.AcceptOptions
		origin string // "self" means the server's own origin
		want   int
	}{
		{"NoOrigin", transport.AcceptOptions{}, "", http.StatusSwitchingProtocols},
		{"SameOrigin", transport.AcceptOptions{}, "self", http.StatusSwitchingProtocols},
		{"OtherOrigin", transport.AcceptOptions{}, "https://evil.example", http.StatusForbidden},
		{"Pattern", transport.AcceptOptions{OriginPatterns: []string{"*.example.com"}}, "https://app.example.com", http.StatusSwitchingProtocols},
		{"PatternMiss", transport.AcceptOptions{OriginPatterns: []string{"*.example.com"}}, "https://example.org", http.StatusForbidden},
		{"SchemePattern", transport.AcceptOptions{OriginPatterns: []string{"https://*.example.com"}}, "http://app.example.com", http.StatusForbidden},
		{"InsecureSkipVerify", transport.AcceptOptions{InsecureSkipVerify: true}, "https://evil.example", http.StatusSwitchingProtocols},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Subprotocols = serverProtocols
			fx := start(t, f, serverConfig{opts: tc.opts})
			header := http.Header{}
			switch tc.origin {
			case "":
			case "self":
				header.Set("Origin", fx.server.URL)
			default:
				header.Set("Origin", tc.origin)
			}
			if got := upgrade(t, fx.url, header); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
			_, err := fx.tryDial(&transport.DialOptions{Subprotocols: []string{preferred}, Header: header})
			if ok := err == nil; ok != (tc.want == http.StatusSwitchingProtocols) {
				t.Errorf("dial with Origin %q: %v", tc.origin, err)
			}
		})
	}
}

func testNotWebSocket(t *testing.T, f Factory) {
	fx := start(t, f, serverConfig{})
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(fx.server.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.StatusCode > 499 {
		t.Errorf("plain GET: status %d, want a 4xx", resp.StatusCode)
	}
	select {
	case <-fx.accepted:
		t.Error("a plain GET was accepted as a connection")
	default:
	}
}

func testDialErrors(t *testing.T, f Factory) {
	fx := start(t, f, serverConfig{})
	hs := httptest.NewServer(http.NotFoundHandler())
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if c, err := fx.dialer.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil); err == nil {
		c.Close(transport.StatusNormalClosure, "")
		t.Error("dial to a plain HTTP endpoint succeeded")
	}
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	if c, err := fx.dialer.Dial(done, fx.url, nil); err == nil {
		c.Close(transport.StatusNormalClosure, "")
		t.Error("dial with a cancelled context succeeded")
	}
	// The server still works.
	c, _ := fx.pair(nil)
	c.conn.Close(transport.StatusNormalClosure, "")
}

// testProtocolErrors sends malformed frames from a hand-written client:
// the acceptor must close with 1002 (protocol error) and report the end
// once, without delivering anything. (An unmasked frame from a client is
// not among them: github.com/coder/websocket accepts it.)
func testProtocolErrors(t *testing.T, f Factory) {
	masked := wstest.Masked
	cases := []struct {
		name  string
		frame []byte
	}{
		{"ReservedBits", masked(0x80|0x40|0x2, []byte("abc"))},
		{"ReservedOpcode", masked(0x80|0x3, []byte("abc"))},
		{"FragmentedPing", masked(0x9, []byte("x"))},
		{"OversizedPing", append([]byte{0x89, 0x80 | 126, 0, 126, 1, 2, 3, 4}, make([]byte, 126)...)},
		{"StrayContinuation", masked(0x80|0x0, []byte("abc"))},
		{"NewMessageInsideFragmented", append(masked(0x2, []byte("ab")), masked(0x80|0x2, []byte("cd"))...)},
		{"OneByteClose", masked(0x88, []byte{3})},
		{"ReservedCloseCode", masked(0x88, []byte{0x03, 0xed})},   // 1005
		{"UnassignedCloseCode", masked(0x88, []byte{0x03, 0xe7})}, // 999
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := start(t, f, serverConfig{opts: transport.AcceptOptions{Subprotocols: serverProtocols}})
			host := strings.TrimPrefix(fx.url, "ws://")
			nc, err := wstest.Dial(host, nil)
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			defer nc.Close()
			s := fx.accept()
			if _, err := nc.Write(tc.frame); err != nil {
				t.Fatalf("write: %v", err)
			}
			nc.SetReadDeadline(time.Now().Add(waitTimeout))
			code, _, err := wstest.ReadClose(nc)
			if err != nil {
				t.Fatalf("no close frame from the server: %v", err)
			}
			if code != transport.StatusProtocolError {
				t.Errorf("server closed with %d, want %d", code, transport.StatusProtocolError)
			}
			nc.Close()
			if err := s.waitClosed(t); err == nil {
				t.Error("server: HandleClose(nil) after a protocol error")
			}
			if n := s.received(); n != 0 {
				t.Errorf("server delivered %d messages from malformed frames", n)
			}
		})
	}
}
