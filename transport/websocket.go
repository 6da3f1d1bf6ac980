package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Default read limits, in bytes.
const (
	DefaultAcceptReadLimit = 1 << 20
	DefaultDialReadLimit   = 16 << 20
)

// WebSocket is the default transport, built on github.com/coder/websocket.
// It implements both [Acceptor] and [Dialer]. Its zero value is ready to
// use.
//
// Writes are batched underneath the WebSocket library: the net.Conn it
// writes to holds bytes from [Conn.WriteMessage] until [Conn.Flush], then
// sends them with one write. Control frames (pong, close) written outside a
// batch go straight to the network. Messages are read into pooled buffers,
// so an idle connection holds no read buffer of its own.
type WebSocket struct {
	// WriteTimeout bounds each flush to the network; a peer that does not
	// read for this long gets its connection closed. Zero means 10s.
	WriteTimeout time.Duration
}

var (
	_ Acceptor = WebSocket{}
	_ Dialer   = WebSocket{}
)

func (t WebSocket) writeTimeout() time.Duration {
	if t.WriteTimeout > 0 {
		return t.WriteTimeout
	}
	return 10 * time.Second
}

// Accept upgrades r. On failure an HTTP error has been written to w.
func (t WebSocket) Accept(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (Conn, error) {
	if opts == nil {
		opts = &AcceptOptions{}
	}
	hw := &hijackWriter{ResponseWriter: w, writeTimeout: t.writeTimeout()}
	c, err := websocket.Accept(hw, r, &websocket.AcceptOptions{
		Subprotocols:       opts.Subprotocols,
		OriginPatterns:     opts.OriginPatterns,
		InsecureSkipVerify: opts.InsecureSkipVerify,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, err
	}
	if hw.bc == nil {
		c.CloseNow()
		return nil, errors.New("transport: the upgrade did not go through the batching connection")
	}
	limit := opts.ReadLimit
	if limit <= 0 {
		limit = DefaultAcceptReadLimit
	}
	c.SetReadLimit(limit)
	return newWSConn(c, hw.bc), nil
}

// Dial opens a WebSocket connection to url.
func (t WebSocket) Dial(ctx context.Context, url string, opts *DialOptions) (Conn, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	var base *http.Transport
	client := &http.Client{}
	if opts.HTTPClient != nil {
		*client = *opts.HTTPClient
		if ht, ok := opts.HTTPClient.Transport.(*http.Transport); ok {
			base = ht.Clone()
		}
	}
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	// The upgrade needs HTTP/1.1 and a connection of its own.
	base.ForceAttemptHTTP2 = false
	base.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	base.DisableKeepAlives = true
	var bc *batchConn
	dial := base.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		bc = &batchConn{Conn: nc, writeTimeout: t.writeTimeout()}
		return bc, nil
	}
	base.DialTLSContext = nil
	client.Transport = base
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		HTTPClient:      client,
		HTTPHeader:      opts.Header,
		Subprotocols:    opts.Subprotocols,
		CompressionMode: websocket.CompressionDisabled,
	})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	if bc == nil {
		c.CloseNow()
		return nil, errors.New("transport: the dial did not go through the batching connection")
	}
	limit := opts.ReadLimit
	if limit <= 0 {
		limit = DefaultDialReadLimit
	}
	c.SetReadLimit(limit)
	return newWSConn(c, bc), nil
}

// hijackWriter hands coder/websocket a batching net.Conn when it hijacks
// the HTTP connection.
type hijackWriter struct {
	http.ResponseWriter
	writeTimeout time.Duration
	bc           *batchConn
}

func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := findHijacker(h.ResponseWriter)
	if !ok {
		return nil, nil, errors.New("transport: http.ResponseWriter does not implement http.Hijacker")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes already buffered for writing (the 101 response) go first.
	if brw.Writer.Buffered() > 0 {
		if err := brw.Writer.Flush(); err != nil {
			nc.Close()
			return nil, nil, err
		}
	}
	h.bc = &batchConn{Conn: nc, writeTimeout: h.writeTimeout}
	return h.bc, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(h.bc, 4096)), nil
}

// findHijacker follows Unwrap methods, as http.ResponseController does.
func findHijacker(w http.ResponseWriter) (http.Hijacker, bool) {
	for {
		switch t := w.(type) {
		case http.Hijacker:
			return t, true
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil, false
		}
	}
}

// batchConn holds writes in memory while a batch is open and sends them
// with one write on flush, or as soon as it holds batchSize bytes, as a
// bufio.Writer would. The buffer comes from a pool when a batch starts
// writing and goes back on flush, so an idle connection holds none.
type batchConn struct {
	net.Conn
	writeTimeout time.Duration

	mu      sync.Mutex
	holding bool
	closing bool
	failed  bool    // a write to the network failed: the peer is gone or not reading
	buf     *[]byte // the held bytes, while a batch holds any
}

// batchSize is the most a batch holds before it goes to the network.
const batchSize = 64 << 10

var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, batchSize); return &b }}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.holding {
		// A write outside a batch (a ping, a pong, the close frame) goes
		// straight out.
		return c.send(p)
	}
	if c.buf == nil {
		c.buf = batchPool.Get().(*[]byte)
	}
	if len(*c.buf)+len(p) > batchSize {
		if err := c.sendHeld(); err != nil {
			return 0, err
		}
		if len(p) >= batchSize {
			return c.send(p)
		}
	}
	*c.buf = append(*c.buf, p...)
	return len(p), nil
}

// send writes p to the network with a fresh deadline: the one left by
// the last write may be long past.
func (c *batchConn) send(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	n, err := c.Conn.Write(p)
	if err != nil {
		c.failed = true
	}
	return n, err
}

// sendHeld writes the held bytes, keeping the buffer.
func (c *batchConn) sendHeld() error {
	if c.buf == nil || len(*c.buf) == 0 {
		return nil
	}
	_, err := c.send(*c.buf)
	*c.buf = (*c.buf)[:0]
	return err
}

// hold opens a batch, unless the connection is closing.
func (c *batchConn) hold() {
	c.mu.Lock()
	c.holding = !c.closing
	c.mu.Unlock()
}

// flush ends the batch, writes what it held and gives its buffer back.
func (c *batchConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.holding = false
	if c.buf == nil {
		return nil
	}
	err := c.sendHeld()
	batchPool.Put(c.buf)
	c.buf = nil
	return err
}

// stopHolding flushes and makes every later write go straight through,
// so the close handshake is never held back.
func (c *batchConn) stopHolding() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.flush()
}

func (c *batchConn) hasFailed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}

type wsConn struct {
	c  *websocket.Conn
	bc *batchConn

	closeOnce sync.Once
	closed    chan struct{}
}

func newWSConn(c *websocket.Conn, bc *batchConn) *wsConn {
	return &wsConn{c: c, bc: bc, closed: make(chan struct{})}
}

var readBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func (w *wsConn) Start(h Handler) { go w.readLoop(h) }

func (w *wsConn) readLoop(h Handler) {
	for {
		typ, r, err := w.c.Reader(context.Background())
		if err != nil {
			h.HandleClose(w.closeErr(err))
			return
		}
		bp := readBufPool.Get().(*[]byte)
		buf, err := readAll(r, (*bp)[:0])
		if err != nil {
			*bp = buf[:0]
			readBufPool.Put(bp)
			h.HandleClose(w.closeErr(err))
			return
		}
		h.HandleMessage(MessageType(typ), buf)
		if cap(buf) <= 64<<10 {
			*bp = buf[:0]
			readBufPool.Put(bp)
		}
	}
}

func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

func (w *wsConn) closeErr(err error) error {
	select {
	case <-w.closed:
		return ErrClosed
	default:
	}
	if code := websocket.CloseStatus(err); code != -1 {
		var ce websocket.CloseError
		errors.As(err, &ce)
		return &CloseError{Code: StatusCode(code), Reason: ce.Reason}
	}
	return err
}

func (w *wsConn) WriteMessage(p []byte) error {
	w.bc.hold()
	err := w.c.Write(context.Background(), websocket.MessageBinary, p)
	if err != nil {
		select {
		case <-w.closed:
			return ErrClosed
		default:
		}
	}
	return err
}

func (w *wsConn) Flush() error { return w.bc.flush() }

func (w *wsConn) Ping(ctx context.Context) error {
	err := w.c.Ping(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		// A peer that does not answer a ping will not answer a close
		// frame either: Close need not wait for it.
		w.bc.mu.Lock()
		w.bc.failed = true
		w.bc.mu.Unlock()
	}
	return err
}

func (w *wsConn) Close(code StatusCode, reason string) error {
	first := false
	w.closeOnce.Do(func() {
		first = true
		close(w.closed)
	})
	if !first {
		return nil
	}
	w.bc.stopHolding()
	if w.bc.hasFailed() {
		// The close handshake would wait up to five seconds for a peer
		// that is gone or not reading; drop the connection at once.
		w.c.CloseNow()
		return nil
	}
	err := w.c.Close(websocket.StatusCode(code), reason)
	if err != nil {
		w.c.CloseNow()
	}
	return nil
}

func (w *wsConn) Subprotocol() string { return w.c.Subprotocol() }
