package gobwasws

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/internal/wsconn"
)

// readBufferSize is the size of each connection's read buffer; messages
// up to this size are delivered from it without a copy.
const readBufferSize = 4096

// Transport is a [transport.Acceptor] and [transport.Dialer] on
// github.com/gobwas/ws. Its zero value is ready to use.
type Transport struct {
	// WriteTimeout is how long a write to the network may wait while the
	// peer accepts nothing before the connection is aborted: a peer that
	// reads, however slowly, is not cut, one that reads nothing is. Zero
	// means [transport.AcceptOptions.WriteTimeout] on the server (a swill
	// server passes its Limits.WriteTimeout there), and 10s otherwise.
	WriteTimeout time.Duration
	// CloseTimeout is how long [transport.Conn.Close] lets the peer take
	// to answer the close frame before the connection is dropped. Zero
	// means 5s.
	CloseTimeout time.Duration
}

var (
	_ transport.Acceptor = Transport{}
	_ transport.Dialer   = Transport{}
)

// Accept upgrades r. On failure an HTTP error has been written to w.
// A zero opts.ReadLimit means [transport.DefaultAcceptReadLimit].
func (t Transport) Accept(w http.ResponseWriter, r *http.Request, opts *transport.AcceptOptions) (transport.Conn, error) {
	if opts == nil {
		opts = &transport.AcceptOptions{}
	}
	nc, br, sub, err := wsconn.Upgrade(w, r, opts)
	if err != nil {
		return nil, err
	}
	limit := opts.ReadLimit
	if limit <= 0 {
		limit = transport.DefaultAcceptReadLimit
	}
	// Keep whatever the client sent right after its request, then read
	// the socket directly.
	c := newConn(wsconn.NewReader(wsconn.Buffered(br), nc, readBufferSize))
	c.Conn = wsconn.New(nc, wsconn.Options{
		Subprotocol:  sub,
		ReadLimit:    limit,
		WriteTimeout: cmp.Or(t.WriteTimeout, opts.WriteTimeout),
		CloseTimeout: t.CloseTimeout,
	})
	return c, nil
}

// Dial opens a WebSocket connection to a ws:// or wss:// url. When
// opts.HTTPClient has an *http.Transport, its DialContext and
// TLSClientConfig are used; proxies are not. A zero opts.ReadLimit means
// [transport.DefaultDialReadLimit].
func (t Transport) Dial(ctx context.Context, url string, opts *transport.DialOptions) (transport.Conn, error) {
	if opts == nil {
		opts = &transport.DialOptions{}
	}
	d := ws.Dialer{
		Protocols:      opts.Subprotocols,
		ReadBufferSize: readBufferSize,
	}
	if len(opts.Header) > 0 {
		d.Header = ws.HandshakeHeaderHTTP(opts.Header)
	}
	if opts.HTTPClient != nil {
		if ht, ok := opts.HTTPClient.Transport.(*http.Transport); ok {
			d.NetDial = ht.DialContext
			d.TLSConfig = ht.TLSClientConfig
		}
	}
	nc, br, hs, err := d.Dial(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("transport: dial %s: %w", url, err)
	}
	rd := wsconn.NewReader(wsconn.Buffered(br), nc, readBufferSize)
	if br != nil {
		ws.PutReader(br)
	}
	limit := opts.ReadLimit
	if limit <= 0 {
		limit = transport.DefaultDialReadLimit
	}
	c := newConn(rd)
	c.Conn = wsconn.New(nc, wsconn.Options{
		Client:       true,
		Subprotocol:  hs.Protocol,
		ReadLimit:    limit,
		WriteTimeout: t.WriteTimeout,
		CloseTimeout: t.CloseTimeout,
	})
	return c, nil
}

// conn reads with one goroutine, started by Start, that lives as long as
// the connection, or until ReleaseReader hands the reading to a new one.
type conn struct {
	*wsconn.Conn

	h transport.Handler

	// The reader in charge; ReleaseReader replaces it.
	rd atomic.Pointer[reader]
}

// reader is one reading goroutine's state.
type reader struct {
	br *bufio.Reader
	// held is how many bytes at the front of br's buffer belong to the
	// message being delivered. Written by the reader before it calls
	// HandleMessage, read by ReleaseReader during that call.
	held int
}

var _ transport.Releaser = (*conn)(nil)

// newConn returns a conn whose first reader reads br.
func newConn(br *bufio.Reader) *conn {
	c := &conn{}
	c.rd.Store(&reader{br: br})
	return c
}

// Start implements [transport.Conn].
func (c *conn) Start(h transport.Handler) {
	c.h = h
	go c.run(c.rd.Load())
}

// run reads until the connection ends, or until the reader is released.
func (c *conn) run(rd *reader) {
	err := c.read(rd)
	if err == errReleased {
		return
	}
	c.h.HandleClose(c.Finish(err))
}

// errReleased ends a reader whose connection has a new one.
var errReleased = errors.New("gobwasws: reader released")

// ReleaseReader implements [transport.Releaser]: a new reader takes over
// with the bytes the current one holds past the message being delivered.
func (c *conn) ReleaseReader() {
	c.Released()
	old := c.rd.Load()
	var rest []byte
	if b := wsconn.Buffered(old.br); len(b) > old.held {
		rest = b[old.held:]
	}
	rd := &reader{br: wsconn.NewReader(rest, c.NetConn(), readBufferSize)}
	c.rd.Store(rd)
	go c.run(rd)
}

// payloadPool holds buffers for messages larger than the read buffer.
var payloadPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// need flushes on idle (see [transport.Releaser]) when br holds fewer
// than n bytes: reading them may wait for the network.
func (c *conn) need(br *bufio.Reader, n int) {
	if br.Buffered() < n {
		c.FlushIdle()
	}
}

// read delivers frames until the connection ends and returns why, or
// errReleased once another reader has taken over.
func (c *conn) read(rd *reader) error {
	br := rd.br
	for {
		c.need(br, 2)
		b, err := br.Peek(2)
		if err != nil {
			return wsconn.ReadError(err)
		}
		n := 2
		switch b[1] & 0x7f {
		case 126:
			n += 2
		case 127:
			n += 8
		}
		if b[1]&0x80 != 0 {
			n += 4
		}
		c.need(br, n)
		if b, err = br.Peek(n); err != nil {
			return wsconn.ReadError(err)
		}
		hdr, _, err := wsconn.ParseHeader(b)
		if err != nil {
			return c.ProtocolError(err.Error())
		}
		br.Discard(n)
		if c.Header(hdr) == wsconn.Skip {
			c.need(br, int(min(hdr.Length, 1<<30)))
			if err := discard(br, hdr.Length); err != nil {
				return wsconn.ReadError(err)
			}
			continue
		}
		size := int(hdr.Length)
		if size <= br.Size() {
			// The payload is read in place, without a copy.
			c.need(br, size)
			p, err := br.Peek(size)
			if err != nil {
				return wsconn.ReadError(err)
			}
			if hdr.Masked {
				ws.Cipher(p, hdr.Mask, 0)
			}
			rd.held = size
			err = c.Frame(hdr, p, c.h)
			if c.rd.Load() != rd {
				return errReleased
			}
			rd.held = 0
			br.Discard(size)
			if err != nil {
				return err
			}
			continue
		}
		bp := payloadPool.Get().(*[]byte)
		if cap(*bp) < size {
			*bp = make([]byte, size)
		}
		p := (*bp)[:size]
		c.need(br, size)
		if _, err := io.ReadFull(br, p); err != nil {
			payloadPool.Put(bp)
			return wsconn.ReadError(err)
		}
		if hdr.Masked {
			ws.Cipher(p, hdr.Mask, 0)
		}
		err = c.Frame(hdr, p, c.h)
		if cap(p) <= 64<<10 {
			payloadPool.Put(bp)
		}
		if c.rd.Load() != rd {
			return errReleased
		}
		if err != nil {
			return err
		}
	}
}

func discard(br *bufio.Reader, n int64) error {
	for n > 0 {
		k := int(min(n, 1<<30))
		if _, err := br.Discard(k); err != nil {
			return err
		}
		n -= int64(k)
	}
	return nil
}
