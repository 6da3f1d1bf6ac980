package clientgo

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/transport"
)

// Client is a connection to one swill server, re-established when it is
// lost. Make calls on it with [Call], [CallServerStream],
// [CallClientStream] and [CallBidiStream]. All its methods and those
// functions are safe for concurrent use by many goroutines; calls share
// the one connection and run independently of each other.
type Client struct {
	url string
	cfg *config
	seq atomic.Int64 // the last sequence number used; never reused

	ctx    context.Context // ends with Close; bounds reconnection dials
	cancel context.CancelFunc
	wg     sync.WaitGroup // the reconnection goroutine

	mu      sync.Mutex
	state   State
	cn      *conn // the live connection, or nil
	lastErr error // why the last connection or dial failed
	changed chan struct{}
	closed  bool

	// State notifications, delivered in order by a goroutine that runs
	// only while some are pending.
	nmu       sync.Mutex
	events    []stateEvent
	notifying bool
	nwg       sync.WaitGroup
	inHook    atomic.Bool
}

type stateEvent struct {
	state State
	err   error
}

// Dial connects to the swill server at url (ws:// or wss://), offering
// the subprotocols swill.v1 and swill/1. It returns once the connection is
// up, or with the error of that first attempt: it does not retry. ctx
// bounds the attempt only; the client lives until [Client.Close].
func Dial(ctx context.Context, url string, opts ...Option) (*Client, error) {
	c := &Client{url: url, cfg: newConfig(opts), state: StateConnecting, changed: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	cn, err := c.dial(ctx)
	if err != nil {
		c.cancel()
		return nil, fmt.Errorf("clientgo: dial %s: %w", url, err)
	}
	if err := c.install(cn); err != nil {
		c.cancel()
		return nil, fmt.Errorf("clientgo: dial %s: %w", url, err)
	}
	return c, nil
}

// dial opens one transport connection.
func (c *Client) dial(ctx context.Context) (*conn, error) {
	if d := c.cfg.dialTimeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	tc, err := c.cfg.dialer.Dial(ctx, c.url, c.cfg.dialerOptions)
	if err != nil {
		return nil, err
	}
	if sp := tc.Subprotocol(); sp != rpc.Subprotocol && sp != rpc.LegacySubprotocol {
		tc.Close(transport.StatusProtocolError, "swill.v1 or swill/1 expected")
		return nil, fmt.Errorf("the server chose subprotocol %q, not %s or %s", sp, rpc.Subprotocol, rpc.LegacySubprotocol)
	}
	return newConn(c, tc), nil
}

// install makes cn the client's connection and starts reading it.
func (c *Client) install(cn *conn) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		cn.tc.Start(cn)
		cn.close(transport.StatusNormalClosure, "client closed")
		<-cn.done
		return ErrClosed
	}
	c.cn = cn
	c.lastErr = nil
	c.setStateLocked(StateConnected, nil)
	c.mu.Unlock()
	cn.tc.Start(cn)
	cn.startKeepalive()
	c.cfg.logger.Info("clientgo: connected", "url", c.url, "subprotocol", cn.tc.Subprotocol())
	return nil
}

// lost is called by a connection that ended.
func (c *Client) lost(cn *conn, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cn == cn {
		c.cn = nil
	}
	if c.closed {
		return
	}
	c.lastErr = err
	c.cfg.logger.Warn("clientgo: connection lost", "url", c.url, "err", err)
	if c.cfg.noReconnect {
		c.setStateLocked(StateDisconnected, lostError(err))
		return
	}
	c.setStateLocked(StateConnecting, lostError(err))
	c.wg.Add(1)
	go c.reconnect()
}

// reconnect dials until a connection is up, the policy gives up or the
// client is closed.
func (c *Client) reconnect() {
	defer c.wg.Done()
	p := c.cfg.reconnect
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for attempt := 0; ; attempt++ {
		if p.MaxAttempts > 0 && attempt >= p.MaxAttempts {
			c.mu.Lock()
			if !c.closed {
				c.setStateLocked(StateDisconnected, lostError(c.lastErr))
			}
			c.mu.Unlock()
			return
		}
		if timer == nil {
			timer = time.NewTimer(p.delay(attempt))
		} else {
			timer.Reset(p.delay(attempt))
		}
		select {
		case <-timer.C:
		case <-c.ctx.Done():
			return
		}
		cn, err := c.dial(c.ctx)
		if err != nil {
			if c.ctx.Err() != nil {
				return
			}
			c.cfg.logger.Info("clientgo: reconnection failed", "url", c.url, "attempt", attempt+1, "err", err)
			c.mu.Lock()
			c.lastErr = err
			c.mu.Unlock()
			continue
		}
		c.install(cn)
		return
	}
}

// conn returns the live connection, waiting for one while the client is
// connecting.
func (c *Client) conn(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		switch {
		case c.closed:
			c.mu.Unlock()
			return nil, ErrClosed
		case c.cn != nil:
			cn := c.cn
			c.mu.Unlock()
			return cn, nil
		case c.state == StateDisconnected:
			err := lostError(c.lastErr)
			c.mu.Unlock()
			return nil, err
		}
		ch, last := c.changed, c.lastErr
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			if last != nil {
				return nil, fmt.Errorf("%w (while waiting for a connection; last error: %v)", ctx.Err(), last)
			}
			return nil, ctx.Err()
		}
	}
}

// timeoutMetadata is a call's metadata with its deadline added.
type timeoutMetadata struct {
	md rpc.Metadata
	ms int64
}

// mdPool holds timeoutMetadata values for reuse.
var mdPool = sync.Pool{New: func() any { return &timeoutMetadata{md: make(rpc.Metadata, 1)} }}

func (tm *timeoutMetadata) release() {
	if len(tm.md) > 16 {
		return // a large map goes to the collector
	}
	clear(tm.md)
	mdPool.Put(tm)
}

// noMetadata is the empty metadata of a stream's opening frame; it is
// only read.
var noMetadata = rpc.Metadata{}

// start opens a call: it registers it on the live connection and queues
// its first frame, which carries the request for unary and server-stream
// calls, and only the request metadata for the others.
func (c *Client) start(ctx context.Context, name string, kind rpc.Kind, req any, md rpc.Metadata) (*call, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, context.DeadlineExceeded
		}
		ms := int64(math.Ceil(float64(left) / float64(time.Millisecond)))
		// Metadata from the pool, only read by the encoder and cleared
		// once the request is encoded.
		tm := mdPool.Get().(*timeoutMetadata)
		defer tm.release()
		for k, v := range md {
			tm.md[k] = v
		}
		tm.ms = ms
		tm.md[rpc.TimeoutKey] = &tm.ms // encodes as the integer, and boxes without allocating
		md = tm.md
	}
	typ := wire.TypeMessage
	if kind.RequestStreams() {
		// A METADATA frame opens the call on the server at once, so that
		// its handler runs (and can send) before the first message, and
		// so that a stream with no message can still be ended.
		typ, req = wire.TypeMetadata, nil
		if md == nil {
			md = noMetadata
		}
	}
	b := wire.GetBuffer()
	for {
		cn, err := c.conn(ctx)
		if err != nil {
			wire.PutBuffer(b)
			return nil, err
		}
		seq := c.seq.Add(1)
		b.Reset()
		enc := wire.GetEncoder()
		err = enc.Request(b, seq, name, typ, req, md)
		wire.PutEncoder(enc)
		if err != nil {
			wire.PutBuffer(b)
			return nil, fmt.Errorf("clientgo: encoding the request for %q: %w", name, err)
		}
		var cl *call
		if kind == rpc.KindUnary {
			cl = getUnary(ctx, cn, seq, name)
		} else {
			cl = &call{ctx: ctx, cn: cn, seq: seq, name: name, kind: kind, done: make(chan struct{})}
			if kind.ResponseStreams() {
				cl.signal = make(chan struct{}, 1)
				cl.taken = make(chan struct{}, 1)
			}
		}
		if !cn.register(cl) {
			if kind == rpc.KindUnary {
				cl.recycle()
			}
			continue // the connection ended meanwhile; wait for the next
		}
		// If the connection ends from here on, the call fails with it.
		cn.write(b)
		return cl, nil
	}
}

// State returns the client's current state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// WaitForStateChange waits until the state is no longer from, or ctx
// ends; it reports whether the state changed. The state may have changed
// again by the time it returns: read it with [Client.State].
func (c *Client) WaitForStateChange(ctx context.Context, from State) bool {
	c.mu.Lock()
	if c.state != from {
		c.mu.Unlock()
		return true
	}
	ch := c.changed
	c.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}

func (c *Client) setStateLocked(s State, err error) {
	if c.state == s || c.state == StateClosed {
		return
	}
	c.state = s
	close(c.changed)
	c.changed = make(chan struct{})
	if c.cfg.stateHook == nil {
		return
	}
	c.nmu.Lock()
	c.events = append(c.events, stateEvent{s, err})
	if !c.notifying {
		c.notifying = true
		c.nwg.Add(1)
		go c.notify()
	}
	c.nmu.Unlock()
}

func (c *Client) notify() {
	defer c.nwg.Done()
	for {
		c.nmu.Lock()
		if len(c.events) == 0 {
			c.notifying = false
			c.nmu.Unlock()
			return
		}
		ev := c.events[0]
		c.events = c.events[1:]
		c.nmu.Unlock()
		c.inHook.Store(true)
		c.cfg.stateHook(ev.state, ev.err)
		c.inHook.Store(false)
	}
}

// closeFlushTimeout bounds how long Close waits for queued frames to be
// written.
const closeFlushTimeout = time.Second

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Close closes the connection (with WebSocket status 1000) and stops
// reconnecting. Frames already queued, such as the CANCEL of a call whose
// context just ended, are written first (for at most a second). Calls
// still open fail with [ErrClosed], as do later ones. Close waits for the
// client's goroutines to end; it is safe to call more than once, and
// always returns nil.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	cn := c.cn
	c.cn = nil
	c.setStateLocked(StateClosed, nil)
	c.mu.Unlock()
	c.cancel()
	if cn != nil {
		cn.flush(closeFlushTimeout)
		cn.close(transport.StatusNormalClosure, "client closed")
		<-cn.done
	}
	c.wg.Wait()
	if !c.inHook.Load() {
		c.nwg.Wait()
	}
	return nil
}
