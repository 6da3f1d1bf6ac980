package swill_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// The tests of this file play hostile clients over real loopback
// connections, and log what they measure (docs/reliability.md quotes
// them): run with -v to see the figures.

// startDefault serves the demo handlers plus hs with the default
// transport, whatever SWILL_TEST_TRANSPORT says: the read timeout is
// the default transport's. It returns the ws:// URL and the address.
func startDefault(t *testing.T, hs []*swill.Handler, readHeaderTimeout time.Duration, opts ...swill.Option) (string, string) {
	t.Helper()
	srv := swill.NewServer(opts...)
	require.NoError(t, srv.Register(hs...))
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	hs0 := httptest.NewUnstartedServer(mux)
	hs0.Config.ReadHeaderTimeout = readHeaderTimeout
	hs0.Start()
	t.Cleanup(func() {
		hs0.Close()
		shutdownNow(t, srv)
	})
	addr := strings.TrimPrefix(hs0.URL, "http://")
	return "ws://" + addr + "/ws", addr
}

// rawConn is a WebSocket client written by hand over TCP, to send what
// no well-behaved library would.
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

// dialRaw completes the WebSocket handshake with the swill endpoint at
// addr.
func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, waitFor)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: swill.v1\r\n\r\n"
	_, err = io.WriteString(nc, req)
	require.NoError(t, err)
	rc := &rawConn{Conn: nc, br: bufio.NewReader(nc)}
	nc.SetReadDeadline(time.Now().Add(waitFor))
	resp, err := http.ReadResponse(rc.br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	nc.SetReadDeadline(time.Time{})
	return rc
}

// frameHeader is the header of a final binary client frame declaring n
// bytes, masked with a zero key (so the payload goes as it is).
func frameHeader(n uint64) []byte {
	var b []byte
	switch {
	case n <= 125:
		b = []byte{0x82, 0x80 | byte(n)}
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16([]byte{0x82, 0x80 | 126}, uint16(n))
	default:
		b = binary.BigEndian.AppendUint64([]byte{0x82, 0x80 | 127}, n)
	}
	return append(b, 0, 0, 0, 0)
}

// waitClose reads what the server sends until it closes the connection,
// answering nothing (not even pings), and returns the close code it
// sent (-1 when the TCP connection ended without one) and how long that
// took from start.
func (rc *rawConn) waitClose(t *testing.T, start time.Time, limit time.Duration) (int, time.Duration) {
	t.Helper()
	rc.SetReadDeadline(start.Add(limit))
	for {
		var h [2]byte
		if _, err := io.ReadFull(rc.br, h[:]); err != nil {
			var ne net.Error
			require.False(t, errors.As(err, &ne) && ne.Timeout(), "connection still open after %v", limit)
			return -1, time.Since(start)
		}
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			io.ReadFull(rc.br, b[:])
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			io.ReadFull(rc.br, b[:])
			n = binary.BigEndian.Uint64(b[:])
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(rc.br, p); err != nil {
			return -1, time.Since(start)
		}
		if h[0]&0x0f == 0x8 {
			code := -1
			if len(p) >= 2 {
				code = int(binary.BigEndian.Uint16(p))
			}
			return code, time.Since(start)
		}
	}
}

// drip writes p one byte every interval until it is written or the
// connection fails; it returns how many bytes went out.
func (rc *rawConn) drip(p []byte, interval time.Duration, stop <-chan struct{}) int {
	for i := range p {
		select {
		case <-stop:
			return i
		case <-time.After(interval):
		}
		rc.SetWriteDeadline(time.Now().Add(waitFor))
		if _, err := rc.Write(p[i : i+1]); err != nil {
			return i
		}
	}
	return len(p)
}

// A client that sends its HTTP request headers one byte at a time is
// dropped by the http.Server's ReadHeaderTimeout, before the swill
// handler ever sees it.
func TestHostileSlowHandshake(t *testing.T) {
	t.Parallel()
	const headerTimeout = 300 * time.Millisecond
	_, addr := startDefault(t, withDemo(), headerTimeout)
	// The server's timer starts when it accepts the connection: measure
	// from before the dial, so that the measure cannot be the shorter.
	start := time.Now()
	nc, err := net.DialTimeout("tcp", addr, waitFor)
	require.NoError(t, err)
	defer nc.Close()
	rc := &rawConn{Conn: nc, br: bufio.NewReader(nc)}
	req := []byte("GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	stop := make(chan struct{})
	dripped := make(chan int, 1)
	go func() { dripped <- rc.drip(req, 20*time.Millisecond, stop) }()
	rc.SetReadDeadline(start.Add(waitFor))
	_, err = io.ReadAll(rc.br) // the server answers nothing, or a 408, then closes
	took := time.Since(start)
	close(stop)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the connection was not closed within %v", waitFor)
	n := <-dripped
	assert.Less(t, n, len(req), "the whole request went through: the header timeout did not apply")
	assert.GreaterOrEqual(t, took, headerTimeout)
	t.Logf("slow handshake: closed after %v (ReadHeaderTimeout %v), %d of %d bytes sent", took.Round(time.Millisecond), headerTimeout, n, len(req))
}

// A client that sends a frame one byte at a time is closed with 1008
// once ReadTimeout has passed; other clients are served meanwhile.
func TestHostileSlowFrame(t *testing.T) {
	t.Parallel()
	const readTimeout = 300 * time.Millisecond
	gone := make(chan error, 1)
	url, addr := startDefault(t, withDemo(), 0, swill.WithLimits(swill.Limits{ReadTimeout: readTimeout}),
		swill.WithHooks(swill.Hooks{AfterConnection: func(_ context.Context, c *swill.Conn, err error) {
			if c.Request().Header.Get("X-Slow") == "" { // the raw client sends none
				select {
				case gone <- err:
				default:
				}
			}
		}}))
	bystander := dialWireWith(t, url, dialOptions{header: http.Header{"X-Slow": {"no"}}})
	rc := dialRaw(t, addr)

	payload := requestFrameMD(t, 1, "add", wire.TypeMessage, []int{1, 2}, nil)
	frame := append(frameHeader(uint64(len(payload))), payload...)
	// The header and the first byte arrive at once, the rest a byte every
	// 50ms: 14 bytes would take 700ms.
	_, err := rc.Write(frame[:7])
	require.NoError(t, err)
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go rc.drip(frame[7:], 50*time.Millisecond, stop)
	bystander.alive()
	code, took := rc.waitClose(t, start, waitFor)
	assert.Equal(t, int(websocket.StatusPolicyViolation), code)
	assert.GreaterOrEqual(t, took, readTimeout)
	select {
	case err := <-gone:
		assert.ErrorContains(t, err, "read timeout")
	case <-time.After(waitFor):
		t.Fatal("the server did not end the connection")
	}
	bystander.alive()
	t.Logf("slow frame: closed with %d after %v (ReadTimeout %v)", code, took.Round(time.Millisecond), readTimeout)
}

// A client stuck in the middle of a frame header cannot answer pings:
// keepalive closes it within PingInterval+PingTimeout (plus one
// interval for the ticker).
func TestHostileSlowFrameHeader(t *testing.T) {
	t.Parallel()
	const interval, timeout = 100 * time.Millisecond, 200 * time.Millisecond
	_, addr := startDefault(t, withDemo(), 0, swill.WithLimits(swill.Limits{PingInterval: interval, PingTimeout: timeout}))
	rc := dialRaw(t, addr)
	start := time.Now()
	_, err := rc.Write(frameHeader(1 << 20)[:1]) // one byte of a header, and no more
	require.NoError(t, err)
	code, took := rc.waitClose(t, start, waitFor)
	assert.Less(t, took, 2*interval+timeout+3*time.Second, "bound: two ping intervals and a ping timeout, and slack for a loaded machine")
	t.Logf("slow frame header: closed (code %d) after %v (PingInterval %v, PingTimeout %v)", code, took.Round(time.Millisecond), interval, timeout)
}

// allocated returns the bytes allocated so far by the process.
func allocated() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// A frame header declaring 2^62 bytes, or one byte more than
// MaxFrameSize, followed by as many bytes as the client can send: the
// server reads no more than MaxFrameSize of it, closes the connection
// with 1009 and allocates about that much. Declaring 2^62 bytes and
// sending none is the slow frame: 1008 after ReadTimeout. (Not
// parallel: it measures allocations.)
func TestHostileHugeDeclaredLength(t *testing.T) {
	const readTimeout = 300 * time.Millisecond
	// The default ReadTimeout, so that a loaded machine's slow sending
	// does not pass for a slow client.
	_, addr := startDefault(t, withDemo(), 0)
	for _, n := range []uint64{1 << 62, 1<<20 + 1} {
		rc := dialRaw(t, addr)
		before := allocated()
		start := time.Now()
		_, err := rc.Write(frameHeader(n))
		require.NoError(t, err)
		stop := make(chan struct{})
		var sending sync.WaitGroup
		sending.Add(1)
		go func() {
			defer sending.Done()
			junk := make([]byte, 64<<10)
			for sent := 0; sent < 4<<20; sent += len(junk) {
				select {
				case <-stop:
					return
				default:
				}
				rc.SetWriteDeadline(time.Now().Add(waitFor))
				if _, err := rc.Write(junk); err != nil {
					return // the server closed the connection
				}
			}
		}()
		code, took := rc.waitClose(t, start, waitFor)
		close(stop)
		sending.Wait()
		alloc := allocated() - before
		assert.Equal(t, int(websocket.StatusMessageTooBig), code, "declared %d bytes", n)
		// The read buffer grows by doubling up to the limit: about 4 MiB in
		// all, garbage once the connection is closed.
		assert.Less(t, alloc, uint64(8<<20), "allocated for a frame cut at 1 MiB")
		t.Logf("declared length %d, bytes sent: closed with %d after %v; %d KiB allocated in the process meanwhile", n, code, took.Round(time.Millisecond), alloc>>10)
	}

	_, slowAddr := startDefault(t, withDemo(), 0, swill.WithLimits(swill.Limits{ReadTimeout: readTimeout}))
	rc := dialRaw(t, slowAddr)
	start := time.Now()
	_, err := rc.Write(frameHeader(1 << 62))
	require.NoError(t, err)
	code, took := rc.waitClose(t, start, waitFor)
	assert.Equal(t, int(websocket.StatusPolicyViolation), code)
	t.Logf("declared length 2^62, nothing sent: closed with %d after %v (ReadTimeout %v)", code, took.Round(time.Millisecond), readTimeout)

	// Inside a frame that fits, a MsgPack value declaring 4 GiB is an
	// ERROR 400: nothing is allocated for the declared size.
	c := dialWireWith(t, "ws://"+addr+"/ws", dialOptions{})
	before := allocated()
	start = time.Now()
	c.sendRaw(unhex("93 0f c6 ff ff ff ff a3 61 64 64"))
	r := c.recv()
	took = time.Since(start)
	alloc := allocated() - before
	assert.Equal(t, rpc.CodeBadRequest, r.rpcErr(t).Code)
	assert.Less(t, alloc, uint64(1<<20))
	c.alive()
	t.Logf("bin32 declaring 4 GiB in an 11-byte frame: ERROR 400 after %v; %d KiB allocated", took.Round(time.Microsecond), alloc>>10)
}

// A frame of nothing but nested one-element arrays, as deep as
// MaxFrameSize allows, is an ERROR 400 (nested deeper than
// codec.MaxDepth) without exhausting the stack; the connection stays
// open. (Not parallel: it measures the time.)
func TestHostileDeepNesting(t *testing.T) {
	_, addr := startDefault(t, withDemo(), 0)
	c := dialWireWith(t, "ws://"+addr+"/ws", dialOptions{})
	const depth = 1<<20 - 64
	frame := append(append(unhex("93 10"), bytes.Repeat([]byte{0x91}, depth)...), unhex("c0 a3 61 64 64")...)
	start := time.Now()
	c.sendRaw(frame)
	r := c.recv()
	took := time.Since(start)
	e := r.rpcErr(t)
	assert.Equal(t, rpc.CodeBadRequest, e.Code)
	assert.Contains(t, e.Message, "nested deeper")
	c.alive()
	t.Logf("%d nested arrays (limit %d): ERROR 400 after %v", depth, codec.MaxDepth, took.Round(time.Microsecond))
}

// 10,000 calls sent at once on one connection: MaxConcurrentCalls (256)
// run, every other one is answered with ERROR 429 at once, and the
// server holds no more than the running calls' goroutines. Once they
// end, every one of them has its result. (Not parallel: it counts
// goroutines.)
func TestHostileTenThousandCalls(t *testing.T) {
	g := newGate()
	url, _ := startDefault(t, withDemo(gateHandlers(g)...), 0)
	c := dialWireWith(t, url, dialOptions{})
	c.alive()
	baseline := runtime.NumGoroutine()
	before := heapInUse()
	const calls, limit = 10000, 256
	b := wire.GetBuffer()
	enc := wire.GetEncoder()
	start := time.Now()
	for i := range calls {
		b.B = b.B[:0]
		require.NoError(t, enc.Request(b, int64(i), "g.unary", wire.TypeMessage, i, nil))
		c.sendRaw(b.B)
	}
	wire.PutEncoder(enc)
	wire.PutBuffer(b)
	refused := 0
	for refused < calls-limit {
		r := c.recv()
		require.Equal(t, wire.TypeError, r.Type)
		require.Equal(t, rpc.CodeTooManyRequests, r.rpcErr(t).Code)
		refused++
	}
	took := time.Since(start)
	for range limit {
		g.waitStarted(t)
	}
	goroutines := runtime.NumGoroutine() - baseline
	grew := int64(heapInUse()) - int64(before)
	assert.LessOrEqual(t, goroutines, limit+16, "goroutines beyond the running calls'")
	g.open()
	got := map[int64]bool{}
	for range limit {
		r := c.recv()
		require.Equal(t, wire.TypeMessage, r.Type)
		got[r.Seq] = true
	}
	assert.Len(t, got, limit)
	c.alive()
	t.Logf("%d calls at once: %d ran, %d got 429, in %v; +%d goroutines, heap %+d KiB while they ran",
		calls, limit, refused, took.Round(time.Millisecond), goroutines, grew>>10)
}

// MaxConnectionsPerIP refuses the connection past it with HTTP 429,
// MaxConnections with 503, both before the upgrade; a slot freed is
// usable again.
func TestHostileConnectionFlood(t *testing.T) {
	t.Parallel()
	const perIP, total = 5, 8
	srv := startServer(t, withDemo(), swill.WithLimits(swill.Limits{MaxConnections: total, MaxConnectionsPerIP: perIP}))
	dialFrom := func(ip string) (*websocket.Conn, *http.Response, error) {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: waitFor}
		hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		return websocket.Dial(ctx, srv.URL, &websocket.DialOptions{HTTPClient: hc, Subprotocols: []string{rpc.Subprotocol}})
	}
	var open []*websocket.Conn
	defer func() {
		for _, c := range open {
			c.CloseNow()
		}
	}()
	for range perIP {
		c, _, err := dialFrom("127.0.0.1")
		require.NoError(t, err)
		open = append(open, c)
	}
	start := time.Now()
	_, resp, err := dialFrom("127.0.0.1")
	took := time.Since(start)
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))

	// Other addresses fill the server up to its global limit.
	for i := perIP; i < total; i++ {
		c, _, err := dialFrom("127.0.0.2")
		require.NoError(t, err, "loopback address 127.0.0.2")
		open = append(open, c)
	}
	_, resp, err = dialFrom("127.0.0.3")
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

	// A connection that ends frees its slot.
	open[0].Close(websocket.StatusNormalClosure, "")
	open = open[1:]
	require.Eventually(t, func() bool {
		c, _, err := dialFrom("127.0.0.1")
		if err != nil {
			return false
		}
		open = append(open, c)
		return true
	}, waitFor, 10*time.Millisecond)
	t.Logf("connection flood: refused with 429 (per IP, limit %d) and 503 (total, limit %d) before the upgrade; a refusal took %v",
		perIP, total, took.Round(time.Microsecond))
}

// A client that never reads while a handler streams to it: the server
// holds at most about MaxQueueBytes for it, closes it once a write has
// waited WriteTimeout (dropping the TCP connection: a peer that reads
// nothing would not read a close frame either), and cancels its
// handler; another client's calls meanwhile take no longer than usual.
// (Not parallel: it measures latency.)
func TestHostileNeverReads(t *testing.T) {
	const (
		queueLimit   = 256 << 10
		writeTimeout = 500 * time.Millisecond
		item         = 16 << 10
	)
	var (
		hostile   atomic.Pointer[swill.Conn]
		ctxDone   = make(chan struct{})
		gone      = make(chan error, 1)
		maxQueued atomic.Int64
	)
	url, _ := startDefault(t, withDemo(swill.ServerStream("firehose", func(ctx context.Context, _ any, out chan<- []byte) error {
		defer close(ctxDone)
		b := make([]byte, item)
		for {
			select {
			case out <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})), 0, swill.WithLimits(swill.Limits{MaxQueueBytes: queueLimit, WriteTimeout: writeTimeout}),
		swill.WithHooks(swill.Hooks{
			AfterAccept: func(_ context.Context, c *swill.Conn) error {
				if c.Request().URL.Query().Get("who") == "hostile" {
					hostile.Store(c)
				}
				return nil
			},
			AfterConnection: func(_ context.Context, c *swill.Conn, err error) {
				if c == hostile.Load() {
					gone <- err
				}
			},
		}))
	bystander := dialWireWith(t, url, dialOptions{query: "?who=bystander"})
	latencies := func(n int) []time.Duration {
		d := make([]time.Duration, n)
		for i := range d {
			start := time.Now()
			bystander.alive()
			d[i] = time.Since(start)
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d
	}
	quietP50 := latencies(200)[100]

	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url+"?who=hostile", &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}})
	require.NoError(t, err)
	defer conn.CloseNow()
	require.NoError(t, conn.Write(ctx, websocket.MessageBinary, requestFrameMD(t, 1, "firehose", wire.TypeMessage, nil, nil)))
	start := time.Now()
	var sampling sync.WaitGroup
	stopSampling := make(chan struct{})
	sampling.Add(1)
	go func() {
		defer sampling.Done()
		for {
			if c := hostile.Load(); c != nil {
				if q := int64(swill.QueuedBytes(c)); q > maxQueued.Load() {
					maxQueued.Store(q)
				}
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	during := latencies(200)
	var closeErr error
	select {
	case closeErr = <-gone:
	case <-time.After(waitFor + 10*writeTimeout):
		t.Fatal("the connection of a client that does not read was not closed")
	}
	took := time.Since(start)
	close(stopSampling)
	sampling.Wait()
	select {
	case <-ctxDone:
	case <-time.After(waitFor):
		t.Fatal("the handler was not cancelled")
	}
	// What the client finds once it reads again: the queued items, then
	// the end of the connection without a close frame.
	var readErr error
	for readErr == nil {
		_, _, readErr = conn.Read(ctx)
	}
	// A close frame (1001) may make it when the socket still takes one.
	assert.Contains(t, []websocket.StatusCode{-1, websocket.StatusGoingAway}, websocket.CloseStatus(readErr), "%v", readErr)
	assert.LessOrEqual(t, maxQueued.Load(), int64(queueLimit+2*item), "queued for the client that does not read")
	duringP50, duringP99 := during[100], during[198]
	assert.Less(t, duringP99, writeTimeout, "a bystander's call waited on the hostile client")
	bystander.alive()
	t.Logf("never reads: at most %d KiB queued (MaxQueueBytes %d KiB); closed after %v (WriteTimeout %v): %v; bystander add() p50 %v quiet, p50 %v / p99 %v meanwhile",
		maxQueued.Load()>>10, queueLimit>>10, took.Round(time.Millisecond), writeTimeout, closeErr,
		quietP50.Round(time.Microsecond), duringP50.Round(time.Microsecond), duringP99.Round(time.Microsecond))
}
