package swill

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swillorg/swill-go/transport"
)

// Conn is one client connection. Handlers reach it through
// [ConnFromContext] or [Call.Conn]; hooks receive it. Its methods are safe
// for concurrent use.
//
// A connection is its identity and values (this file), the table of its
// open calls (callTable), the dispatch of the frames it reads
// (dispatch.go), its outbox, which owns the write queue and every write
// to the transport (outbox), its activity and deadlines (deadlines.go)
// and the calls it runs on its reader's goroutine (inline.go).
type Conn struct {
	srv     *Server
	tc      transport.Conn
	id      string
	up      upgrade                      // the upgrade request, compactly
	req     atomic.Pointer[http.Request] // built from up on demand; see Request
	refused bool                         // an AfterAccept hook refused the connection
	slot    connSlot                     // its place among the connections the limits count
	ignore  bool                         // read path only: drop every later frame (after a text frame)
	act     activity

	table callTable
	out   outbox
	wg    sync.WaitGroup // goroutines serving this connection

	// Inline calls (see inline.go): rel is the transport when it can hand
	// its reading over and the server runs calls inline; inline is the
	// call running on the reader's goroutine, if any.
	rel      transport.Releaser
	inlineMu sync.Mutex // serializes the end of an inline call with its release
	inline   atomic.Pointer[Call]
	watched  atomic.Bool // on the watchdog's list

	// valuesMu guards values, and the context and the request made on
	// demand.
	valuesMu sync.Mutex
	values   map[any]any
	ctx      context.Context // ends with the connection; see Context
	cancel   context.CancelFunc
	ended    bool               // HandleClose ran: a context made now is already over
	ping     context.CancelFunc // cancels the keepalive ping in flight
}

func newConn(s *Server, tc transport.Conn, r *http.Request) *Conn {
	c := &Conn{srv: s, tc: tc, id: newID()}
	c.up.keep(r)
	c.act.received()
	if rel, ok := tc.(transport.Releaser); ok && s.watchdog.budget > 0 {
		c.rel = rel
	}
	c.out = outbox{tc: tc, limit: s.limits.MaxQueueBytes, active: &c.table.active, wg: &c.wg, logger: s.logger, id: c.id}
	c.out.writer = c.out.writeLoop
	return c
}

// upgrade is what a connection keeps of its upgrade request until
// [Conn.Request] is called: most connections never ask for the
// *http.Request, whose clone costs an idle connection more than its
// transport. The body and the form are not kept; of the context only its
// values are used (see Conn.value).
type upgrade struct {
	ok                     bool
	ctx                    context.Context // the request's, for its values
	protoMajor, protoMinor uint8
	method, proto          string
	host, remoteAddr       string
	requestURI             string
	url                    *url.URL
	header                 []string // name, value, name, value...
	tls                    *tls.ConnectionState
}

func (u *upgrade) keep(r *http.Request) {
	if r == nil {
		return
	}
	*u = upgrade{
		ok:         true,
		ctx:        r.Context(),
		protoMajor: uint8(r.ProtoMajor),
		protoMinor: uint8(r.ProtoMinor),
		method:     r.Method,
		proto:      r.Proto,
		host:       r.Host,
		remoteAddr: r.RemoteAddr,
		requestURI: r.RequestURI,
		tls:        r.TLS,
	}
	if r.URL != nil {
		u2 := *r.URL
		if r.URL.User != nil {
			u2.User = new(url.Userinfo)
			*u2.User = *r.URL.User
		}
		u.url = &u2
	}
	n := 0
	for _, vs := range r.Header {
		n += len(vs)
	}
	if n > 0 {
		u.header = make([]string, 0, 2*n)
		for k, vs := range r.Header {
			for _, v := range vs {
				u.header = append(u.header, k, v)
			}
		}
	}
}

// request builds the *http.Request u describes.
func (u *upgrade) request() *http.Request {
	r := &http.Request{
		Method:     u.method,
		URL:        u.url,
		Proto:      u.proto,
		ProtoMajor: int(u.protoMajor),
		ProtoMinor: int(u.protoMinor),
		Header:     make(http.Header, len(u.header)/2),
		Body:       http.NoBody,
		Host:       u.host,
		RemoteAddr: u.remoteAddr,
		RequestURI: u.requestURI,
		TLS:        u.tls,
	}
	if r.URL == nil {
		r.URL = &url.URL{}
	}
	for i := 0; i < len(u.header); i += 2 {
		r.Header[u.header[i]] = append(r.Header[u.header[i]], u.header[i+1])
	}
	return r
}

type connKey struct{}

type connContext struct {
	context.Context
	conn *Conn
}

func (c connContext) Value(key any) any {
	if key == (connKey{}) {
		return c.conn
	}
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.conn.value(key)
}

// ConnFromContext returns the connection a handler, interceptor or hook
// runs for, or nil.
func ConnFromContext(ctx context.Context) *Conn {
	c, _ := ctx.Value(connKey{}).(*Conn)
	return c
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ID returns the connection's unique id.
func (c *Conn) ID() string { return c.id }

// Request returns the HTTP upgrade request the connection started with:
// method, headers, cookies, URL and query, host, remote address and TLS
// state; its body is empty, and its context, form and the rest are not
// kept. It is made the first time it is asked for, and every call returns
// that one. It is nil for connections given to [Server.ServeConn] without
// one.
func (c *Conn) Request() *http.Request {
	if r := c.req.Load(); r != nil || !c.up.ok {
		return r
	}
	c.valuesMu.Lock()
	defer c.valuesMu.Unlock()
	if r := c.req.Load(); r != nil {
		return r
	}
	r := c.up.request()
	c.up.header = nil // r.Header holds it now
	c.req.Store(r)
	return r
}

// RemoteAddr returns the peer's network address as the HTTP server saw it.
func (c *Conn) RemoteAddr() string { return c.up.remoteAddr }

// Subprotocol returns the negotiated subprotocol, swill.v1 or swill/1.
func (c *Conn) Subprotocol() string { return c.tc.Subprotocol() }

// Context returns a context that ends when the connection closes. Its
// values are those stored with [Conn.Set] and those of the upgrade
// request's context (what HTTP middleware put there), not its
// cancellation: the connection outlives the HTTP request.
func (c *Conn) Context() context.Context {
	c.valuesMu.Lock()
	defer c.valuesMu.Unlock()
	if c.ctx == nil {
		// Made on demand: an idle connection holds no context. Calls do
		// not derive theirs from it (see open).
		c.ctx, c.cancel = context.WithCancel(connContext{Context: c.srv.baseCtx, conn: c})
		if c.ended {
			c.cancel()
		}
	}
	return c.ctx
}

// Set stores a per-connection value under key, as context.WithValue
// would: hooks, interceptors and handlers read it with [Conn.Value], or
// with the Value method of the connection's context and of the context of
// every call, where it hides a value of the upgrade request's context
// under the same key.
func (c *Conn) Set(key, value any) {
	c.valuesMu.Lock()
	if c.values == nil {
		c.values = map[any]any{}
	}
	c.values[key] = value
	c.valuesMu.Unlock()
}

// Value returns the value stored under key with [Conn.Set], or nil.
func (c *Conn) Value(key any) any {
	c.valuesMu.Lock()
	defer c.valuesMu.Unlock()
	return c.values[key]
}

// value is what the contexts of the connection and of its calls hold
// under key beyond their own values: the value stored with [Conn.Set],
// else the upgrade request's context's. It takes valuesMu, which
// [Conn.Context] holds while it calls context.WithCancel: that asks its
// parent only for the context package's own key, which the parent has,
// so connContext.Value answers it before reaching here.
func (c *Conn) value(key any) any {
	c.valuesMu.Lock()
	v, ok := c.values[key]
	c.valuesMu.Unlock()
	if ok {
		return v
	}
	if c.up.ctx != nil {
		return c.up.ctx.Value(key)
	}
	return nil
}

// Close closes the connection with 1000 (normal closure) and reason.
// Open calls are cancelled.
func (c *Conn) Close(reason string) {
	c.closeWith(transport.StatusNormalClosure, reason)
}

// lastActivity is when the connection last received a frame or ended a
// call.
func (c *Conn) lastActivity() time.Time { return c.act.last() }

func (c *Conn) activeCalls() int { return int(c.table.active.Load()) }

// goTracked runs f in a goroutine that HandleClose waits for. Nothing
// starts once the connection is closed: HandleClose shuts the outbox
// before it waits, so every Add happens before its Wait.
func (c *Conn) goTracked(f func()) {
	if !c.out.track() {
		return
	}
	go func() {
		defer c.wg.Done()
		f()
	}()
}

// closeWith closes the connection with code and reason. Frames already
// queued go out first: the writer sends the close frame once it has
// drained the queue, so it stays the only goroutine writing.
func (c *Conn) closeWith(code transport.StatusCode, reason string) {
	c.out.close(code, reason)
}

// handleClose is [transport.Handler.HandleClose] (see connHandler). It
// cancels every open call, waits for their handlers and the writer, runs
// the AfterConnection hooks and forgets the connection.
func (c *Conn) handleClose(err error) {
	c.out.shut()
	c.valuesMu.Lock()
	c.ended = true
	for _, cancel := range []context.CancelFunc{c.cancel, c.ping} {
		if cancel != nil {
			cancel()
		}
	}
	c.valuesMu.Unlock()
	c.table.clear()
	c.wg.Wait()
	c.out.dropQueue()
	if !c.refused && c.srv.hooks.hasAfterConnection() {
		c.srv.hooks.afterConnection(c.Context(), c, err)
	}
	c.srv.removeConn(c)
}
