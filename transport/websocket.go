package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/swillorg/swill-go/transport/internal/progress"
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
// writes to holds bytes from [Conn.WriteMessage] until [Conn.Flush] (or
// until it holds 64 KiB), then sends them with one write. Messages are
// framed straight into that batch; the library writes only the control
// frames (ping, pong, close), which go straight to the network outside a
// batch. Messages are read into pooled buffers, so an idle connection
// holds no read buffer of its own.
type WebSocket struct {
	// WriteTimeout is how long a write to the network may wait while the
	// peer accepts nothing before the connection is closed: a peer that
	// reads, however slowly, is not cut, one that reads nothing is. Zero
	// means [AcceptOptions.WriteTimeout] on the server (a swill server
	// passes its Limits.WriteTimeout there), and 10s otherwise.
	WriteTimeout time.Duration
}

var (
	_ Acceptor = WebSocket{}
	_ Dialer   = WebSocket{}
)

func (t WebSocket) writeTimeout(opts time.Duration) time.Duration {
	switch {
	case t.WriteTimeout > 0:
		return t.WriteTimeout
	case opts > 0:
		return opts
	}
	return 10 * time.Second
}

// Accept upgrades r. On failure an HTTP error has been written to w.
func (t WebSocket) Accept(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (Conn, error) {
	if opts == nil {
		opts = &AcceptOptions{}
	}
	hw := &hijackWriter{ResponseWriter: w, writeTimeout: t.writeTimeout(opts.WriteTimeout)}
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
	hw.bc.readTimeout = max(opts.ReadTimeout, 0)
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
	tlsURL := strings.HasPrefix(url, "wss:") || strings.HasPrefix(url, "https:")
	dial := base.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		bc = newBatchConn(nc, t.writeTimeout(0), false)
		bc.client = true
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
	// Over TLS (wss, or a proxy reached over TLS), the connection carries
	// TLS records: messages must go through the library, and TLS, first.
	bc.mu.Lock()
	bc.frames = !tlsURL && !bc.tlsFirst
	bc.mu.Unlock()
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
	h.bc = newBatchConn(nc, h.writeTimeout, true)
	// The library reads through the batchConn, which flushes the batch
	// when it is about to wait (flush on idle, see Releaser), after
	// whatever the client sent right after its request.
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		h.bc.pre = append([]byte(nil), b...)
	}
	return h.bc, bufio.NewReadWriter(bufio.NewReaderSize(h.bc, 4096), bufio.NewWriterSize(h.bc, 4096)), nil
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
//
// When it lies right under the WebSocket library (no TLS in between),
// messages are framed straight into its batch (writeMessage); otherwise
// the library frames them and they reach the batch through Write.
type batchConn struct {
	net.Conn
	w        progress.Writer // every byte to the network goes through it
	frames   bool            // it carries the WebSocket frames themselves
	client   bool            // frames written by this end are masked
	written  bool            // something was written
	tlsFirst bool            // the first write was a TLS record: TLS runs over this connection

	// The read side, used by the library's reader only.
	pre []byte // bytes read before the upgrade completed, returned first

	// The message read timeout (see AcceptOptions.ReadTimeout): while
	// inMsg, the first read that has to wait for the network sets a read
	// deadline (armed), which the end of the message clears.
	readTimeout time.Duration
	inMsg       atomic.Bool
	armed       atomic.Bool
	timedOut    atomic.Bool // a read failed at that deadline

	// mu is held by writers only: the application's writer, which
	// flushes after its writes, and the library's writes of control
	// frames, which flush at once. Nobody takes it and returns without
	// a flush to follow, so that the reader's flush on idle can skip a
	// batch whose lock is taken.
	mu           sync.Mutex
	holding      bool
	closing      bool
	closeWritten bool    // the library wrote a close frame: no message may follow
	buf          *[]byte // the held bytes, while a batch holds any

	failed atomic.Bool // a write to the network failed: the peer is gone or not reading
	open   atomic.Bool // buf is set
	owed   atomic.Bool // a batch was open when a HandleMessage call returned: the flush on idle has work
}

func newBatchConn(nc net.Conn, writeTimeout time.Duration, frames bool) *batchConn {
	c := &batchConn{Conn: nc, frames: frames}
	c.w.Init(nc, writeTimeout)
	return c
}

// batchSize is the most a batch holds before it goes to the network.
const batchSize = 64 << 10

var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, batchSize); return &b }}

// Write is the library's: the upgrade, then, when the batchConn carries
// frames, one whole control frame per call (the library flushes its
// buffer at the end of every frame, and frames no message).
func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frames && len(p) > 0 && p[0]&0x0f == 0x8 {
		c.closeWritten = true
	}
	if !c.written && len(p) > 0 {
		// An HTTP request starts with a method, a TLS client hello
		// with a handshake record (0x16).
		c.written, c.tlsFirst = true, p[0] == 0x16
	}
	if !c.holding || c.frames {
		// A write outside a batch goes straight out. So does a control
		// frame (a ping, a pong, the close frame) when the library frames
		// no message, after what the batch holds: nothing else would
		// flush it.
		if err := c.sendHeld(); err != nil {
			return 0, err
		}
		return c.send(p)
	}
	c.getBuf()
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

// Read is the library's. It returns the bytes read before the upgrade,
// then reads the network, telling the handler first that it may wait.
func (c *batchConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	if c.owed.Load() {
		c.owed.Store(false)
		c.flushIdle()
	}
	if c.readTimeout > 0 && c.inMsg.Load() && !c.armed.Load() {
		c.armed.Store(true)
		c.Conn.SetReadDeadline(time.Now().Add(c.readTimeout))
	}
	n, err := c.Conn.Read(p)
	if err != nil && c.armed.Load() && errors.Is(err, os.ErrDeadlineExceeded) {
		c.timedOut.Store(true)
	}
	return n, err
}

// delivered notes, after a HandleMessage call, whether it left a batch
// for the flush on idle.
func (c *batchConn) delivered() {
	if c.open.Load() {
		c.owed.Store(true)
	}
}

// flushIdle is the flush on idle of [Releaser]. When the batchConn
// carries the frames, it skips a batch whose lock another writer holds:
// that one flushes (see mu). Under TLS, where it cannot tell a control
// frame from a message, it waits for the lock.
func (c *batchConn) flushIdle() {
	if c.frames {
		if !c.mu.TryLock() {
			return
		}
	} else {
		c.mu.Lock()
	}
	c.flushLocked()
	c.mu.Unlock()
}

// beginMessage and endMessage bracket the reading of one message, for
// the read timeout. Messages that are already buffered in full cost two
// atomic stores: no deadline is set for them.
func (c *batchConn) beginMessage() {
	if c.readTimeout > 0 {
		c.inMsg.Store(true)
	}
}

func (c *batchConn) endMessage() {
	if c.readTimeout > 0 {
		c.inMsg.Store(false)
		if c.armed.Load() && !c.timedOut.Load() {
			c.armed.Store(false)
			c.Conn.SetReadDeadline(time.Time{})
		}
	}
}

// hold opens a batch for the library's writes, unless the connection is
// closing.
func (c *batchConn) hold() {
	c.mu.Lock()
	c.holding = !c.closing
	c.mu.Unlock()
}

// writeMessage frames p as one binary message into the batch, which it
// opens, masking it when this end is the client. c.frames must be set.
func (c *batchConn) writeMessage(p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.closeWritten {
		return ErrClosed
	}
	if c.failed.Load() {
		return errors.New("transport: an earlier write failed")
	}
	c.holding = true
	c.getBuf()
	size := maxHeaderSize + len(p)
	if len(*c.buf)+size > batchSize {
		if err := c.sendHeld(); err != nil {
			return err
		}
	}
	b := *c.buf
	var key uint32
	if c.client {
		key = rand.Uint32()
	}
	b = appendHeader(b, len(p), c.client, key)
	if !c.client && size > batchSize {
		// A large message goes out at once, without a copy.
		*c.buf = b
		err := c.sendHeld()
		if err == nil {
			_, err = c.send(p)
		}
		return err
	}
	start := len(b)
	b = append(b, p...)
	if c.client {
		maskBytes(b[start:], key)
	}
	*c.buf = b
	if len(b) > batchSize {
		return c.sendHeld()
	}
	return nil
}

// maxHeaderSize is the longest frame header: 2 bytes, a 64-bit length
// and a masking key.
const maxHeaderSize = 14

// appendHeader appends the header of a final binary frame with a payload
// of length bytes, masked with key when masked.
func appendHeader(b []byte, length int, masked bool, key uint32) []byte {
	var m byte
	if masked {
		m = 0x80
	}
	switch {
	case length <= 125:
		b = append(b, 0x82, m|byte(length))
	case length <= 0xffff:
		b = append(b, 0x82, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(length))
	default:
		b = append(b, 0x82, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(length))
	}
	if masked {
		b = binary.LittleEndian.AppendUint32(b, key)
	}
	return b
}

// maskBytes masks b in place with key, whose first byte (in little-endian
// order) applies to b[0].
func maskBytes(b []byte, key uint32) {
	k64 := uint64(key) | uint64(key)<<32
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= byte(key >> (8 * (i % 4)))
	}
}

// send writes p to the network; it fails once the peer has accepted
// nothing for the write timeout.
func (c *batchConn) send(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil {
		c.failed.Store(true)
	}
	return n, err
}

// getBuf makes sure a batch buffer is there; the caller holds mu.
func (c *batchConn) getBuf() {
	if c.buf == nil {
		c.buf = batchPool.Get().(*[]byte)
		c.open.Store(true)
	}
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

// flush ends the batch, writes what it held and gives its buffer back.
func (c *batchConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked()
}

func (c *batchConn) flushLocked() error {
	c.holding = false
	if c.buf == nil {
		return nil
	}
	err := c.sendHeld()
	if cap(*c.buf) <= batchSize { // a client's large message grew it
		batchPool.Put(c.buf)
	}
	c.buf = nil
	c.open.Store(false)
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

func (c *batchConn) hasFailed() bool { return c.failed.Load() }

type wsConn struct {
	c   *websocket.Conn
	bc  *batchConn
	h   Handler
	gen atomic.Uint64 // the generation of the reader in charge; see ReleaseReader

	closeOnce sync.Once
	closed    chan struct{}
}

func newWSConn(c *websocket.Conn, bc *batchConn) *wsConn {
	return &wsConn{c: c, bc: bc, closed: make(chan struct{})}
}

var readBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

var _ Releaser = (*wsConn)(nil)

// Start implements [Conn].
func (w *wsConn) Start(h Handler) {
	w.h = h
	go w.readLoop(w.gen.Load())
}

// ReleaseReader implements [Releaser]. The released reader has read its
// message to the end: the new one starts at the next.
//
// What the released call wrote so far is the new reader's to flush on
// idle.
func (w *wsConn) ReleaseReader() {
	w.bc.delivered()
	go w.readLoop(w.gen.Add(1))
}

// readLoop delivers messages until the connection ends, or until
// ReleaseReader makes gen stale.
func (w *wsConn) readLoop(gen uint64) {
	h := w.h
	for {
		typ, r, err := w.c.Reader(context.Background())
		if err != nil {
			// coder/websocket leaves the socket open when a read fails (a
			// peer gone without a close frame, a protocol error): release
			// it here, or each such connection keeps its file descriptor
			// and buffers for good.
			w.c.CloseNow()
			h.HandleClose(w.closeErr(err))
			return
		}
		bp := readBufPool.Get().(*[]byte)
		w.bc.beginMessage()
		buf, err := readAll(r, (*bp)[:0])
		w.bc.endMessage()
		if err != nil {
			*bp = buf[:0]
			readBufPool.Put(bp)
			if w.bc.timedOut.Load() {
				// The deadline, still in the past, makes the close
				// handshake's wait for the peer's answer fail at once.
				w.Close(StatusPolicyViolation, "message read timeout")
				h.HandleClose(ErrReadTimeout)
				return
			}
			w.c.CloseNow()
			h.HandleClose(w.closeErr(err))
			return
		}
		h.HandleMessage(MessageType(typ), buf)
		w.bc.delivered()
		if cap(buf) <= 64<<10 {
			*bp = buf[:0]
			readBufPool.Put(bp)
		}
		if w.gen.Load() != gen {
			return
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
	select {
	case <-w.closed:
		return ErrClosed
	default:
	}
	if w.bc.frames {
		return w.bc.writeMessage(p)
	}
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
		w.bc.failed.Store(true)
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
