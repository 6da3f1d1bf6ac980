package memtransport

import (
	"context"
	"sync"

	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/transport"
)

// Pipe returns two connected ends. Messages written on one end and
// flushed are read, in order, by the other.
func Pipe(subprotocol string) (transport.Conn, transport.Conn) {
	a := &conn{sub: subprotocol, notify: make(chan struct{}, 1), done: make(chan struct{})}
	b := &conn{sub: subprotocol, notify: make(chan struct{}, 1), done: make(chan struct{})}
	a.peer, b.peer = b, a
	return a, b
}

// Dialer is a [transport.Dialer] whose every Dial creates a [Pipe] and
// passes the server end to Serve.
type Dialer struct {
	// Subprotocol is reported by both ends; empty means [rpc.Subprotocol].
	Subprotocol string
	// Serve receives the server end of each new connection.
	Serve func(transport.Conn)
}

// Dial implements [transport.Dialer]; url and opts are ignored.
func (d Dialer) Dial(ctx context.Context, url string, opts *transport.DialOptions) (transport.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sub := d.Subprotocol
	if sub == "" {
		sub = rpc.Subprotocol
	}
	client, server := Pipe(sub)
	d.Serve(server)
	return client, nil
}

type message struct {
	typ  transport.MessageType
	data []byte
}

type conn struct {
	sub  string
	peer *conn

	mu       sync.Mutex
	inbox    []message
	closeErr error // set when the peer closed: delivered after the inbox drains
	pending  []message
	notify   chan struct{}

	closeOnce sync.Once
	done      chan struct{}
}

func (c *conn) Start(h transport.Handler) { go c.loop(h) }

func (c *conn) loop(h transport.Handler) {
	for {
		c.mu.Lock()
		batch := c.inbox
		c.inbox = nil
		cerr := c.closeErr
		c.mu.Unlock()
		for _, m := range batch {
			h.HandleMessage(m.typ, m.data)
		}
		if len(batch) > 0 {
			continue
		}
		if cerr != nil {
			h.HandleClose(cerr)
			return
		}
		select {
		case <-c.notify:
		case <-c.done:
			c.mu.Lock()
			if c.closeErr == nil {
				c.closeErr = transport.ErrClosed
			}
			c.mu.Unlock()
		}
	}
}

func (c *conn) deliver(ms []message, cerr error) {
	c.mu.Lock()
	if c.closeErr == nil {
		c.inbox = append(c.inbox, ms...)
		if cerr != nil {
			c.closeErr = cerr
		}
	}
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *conn) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *conn) WriteMessage(p []byte) error {
	if c.isClosed() {
		return transport.ErrClosed
	}
	c.pending = append(c.pending, message{transport.Binary, append([]byte(nil), p...)})
	return nil
}

// WriteText sends a text message, which swill never does; tests use it to
// check how a peer reacts.
func WriteText(c transport.Conn, p []byte) error {
	mc, ok := c.(*conn)
	if !ok || mc.isClosed() {
		return transport.ErrClosed
	}
	mc.peer.deliver([]message{{transport.Text, append([]byte(nil), p...)}}, nil)
	return nil
}

func (c *conn) Flush() error {
	if c.isClosed() {
		return transport.ErrClosed
	}
	if len(c.pending) > 0 {
		c.peer.deliver(c.pending, nil)
		c.pending = nil
	}
	return nil
}

func (c *conn) Ping(ctx context.Context) error {
	if c.isClosed() {
		return transport.ErrClosed
	}
	return ctx.Err()
}

func (c *conn) Close(code transport.StatusCode, reason string) error {
	c.closeOnce.Do(func() {
		close(c.done)
		c.peer.deliver(nil, &transport.CloseError{Code: code, Reason: reason})
		select {
		case c.notify <- struct{}{}:
		default:
		}
	})
	return nil
}

func (c *conn) Subprotocol() string { return c.sub }
