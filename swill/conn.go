package swill

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"math"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/transport"
)

// Conn is one client connection. Handlers reach it through
// [ConnFromContext] or [Call.Conn]; hooks receive it. Its methods are safe
// for concurrent use.
type Conn struct {
	writer  func() // see newConn
	srv     *Server
	tc      transport.Conn
	id      string
	up      upgrade                      // the upgrade request, compactly
	req     atomic.Pointer[http.Request] // built from up on demand; see Request
	refused bool                         // an AfterAccept hook refused the connection
	slot    connSlot                     // its place among the connections the limits count
	ignore  bool                         // read path only: drop every later frame (after a text frame)
	lastRx  atomic.Int64                 // unix nanoseconds of the last frame received
	lastEnd atomic.Int64                 // unix nanoseconds of the end of the last call

	// Inline calls (see inline.go): rel is the transport when it can hand
	// its reading over and the server runs calls inline; inline is the
	// call running on the reader's goroutine, if any.
	rel      transport.Releaser
	shared   transport.SharedReader // the transport, when its readers serve other connections too
	tryBufs  [][]byte               // HandleIdle's, for shared.TryWriteMessages; used by the writer only
	inlineMu sync.Mutex             // serializes the end of an inline call with its release
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

	// The open calls by seq, each a list of the calls with that seq
	// (linked by next). The first seq goes in one, the others in calls,
	// allocated only when a client has several calls open at once.
	callsMu sync.Mutex
	one     *Call
	calls   map[int64]*Call
	active  atomic.Int32   // open calls; changed under callsMu, read anywhere
	over    []*Call        // calls kept only to absorb the client's last frames, oldest first
	doomed  bool           // every call is cancelled, those opened later at once
	tokens  float64        // the CallsPerSecond bucket: calls it allows now
	filled  int64          // unix nanoseconds when tokens was last brought up to date; 0: full
	wg      sync.WaitGroup // goroutines serving this connection

	// The write path: a queue drained by a writer goroutine that runs only
	// while something is queued, writes each frame as its own message and
	// flushes when the queue is momentarily empty.
	wmu     sync.Mutex
	queue   []outFrame
	spare   []outFrame
	queued  int // the memory queue holds, as frameCost counts it
	writing bool
	closed  bool          // no frame is accepted any more
	space   chan struct{} // closed when the queue drops below the limit

	held bool // frames wait in queue for HandleIdle; see pushHeld

	closePending bool // the writer sends a close frame once drained
	closeCode    transport.StatusCode
	closeReason  string
}

// writer is c.writeLoop bound once, so that "go c.writer()" starts a
// writer without allocating a closure each time, as "go c.writer()"
// would: a publication to many idle connections starts one per connection.
func newConn(s *Server, tc transport.Conn, r *http.Request) *Conn {
	c := &Conn{srv: s, tc: tc, id: newID()}
	c.writer = c.writeLoop
	c.up.keep(r)
	c.lastRx.Store(time.Now().UnixNano())
	if rel, ok := tc.(transport.Releaser); ok && s.watchdog.budget > 0 {
		c.rel = rel
	}
	c.shared, _ = tc.(transport.SharedReader)
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
// call: a connection whose call ran for an hour without a frame from the
// client is not idle the moment that call ends.
func (c *Conn) lastActivity() time.Time {
	return time.Unix(0, max(c.lastRx.Load(), c.lastEnd.Load()))
}

func (c *Conn) activeCalls() int { return int(c.active.Load()) }

// goTracked runs f in a goroutine that HandleClose waits for. Nothing
// starts once the connection is closed: HandleClose sets closed under wmu
// before it waits, so every Add happens before its Wait.
func (c *Conn) goTracked(f func()) {
	c.wmu.Lock()
	if c.closed {
		c.wmu.Unlock()
		return
	}
	c.wg.Add(1)
	c.wmu.Unlock()
	go func() {
		defer c.wg.Done()
		f()
	}()
}

// closeWith closes the connection with code and reason. Frames already
// queued go out first: the writer sends the close frame once it has
// drained the queue, so it stays the only goroutine writing.
func (c *Conn) closeWith(code transport.StatusCode, reason string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	c.closeCode, c.closeReason, c.closePending = code, reason, true
	if !c.writing {
		c.writing = true
		c.wg.Add(1)
		go c.writer()
	}
}

// handleClose is [transport.Handler.HandleClose] (see connHandler). It
// cancels every open call, waits for their handlers and the writer, runs
// the AfterConnection hooks and forgets the connection.
func (c *Conn) handleClose(err error) {
	c.wmu.Lock()
	c.closed = true
	c.wmu.Unlock()
	c.valuesMu.Lock()
	c.ended = true
	for _, cancel := range []context.CancelFunc{c.cancel, c.ping} {
		if cancel != nil {
			cancel()
		}
	}
	c.valuesMu.Unlock()
	c.callsMu.Lock()
	c.doomed = true
	c.eachCall(func(call *Call) { call.cancel() })
	c.one, c.calls = nil, nil
	c.over = nil
	c.callsMu.Unlock()
	c.wg.Wait()
	c.dropQueue()
	if !c.refused && c.srv.hooks.hasAfterConnection() {
		c.srv.hooks.afterConnection(c.Context(), c, err)
	}
	c.srv.removeConn(c)
}

// handleMessage is [transport.Handler.HandleMessage] (see connHandler):
// it reads one frame and dispatches it. Calls run on workers, or, on a transport that can
// release its reader, unary calls run here (see inline.go).
func (c *Conn) handleMessage(typ transport.MessageType, data []byte) {
	c.lastRx.Store(time.Now().UnixNano())
	if c.refused || c.ignore {
		return
	}
	if typ != transport.Binary {
		c.srv.logger.Info("swill: text frame received, closing", "conn", c.id)
		c.ignore = true // nothing read after it is dispatched
		c.closeWith(transport.StatusUnsupportedData, "swill/1 frames are binary MsgPack")
		return
	}
	var f wire.Request
	if err := wire.ParseRequest(data, &f); err != nil {
		c.malformed(err)
		return
	}
	switch f.Type {
	case wire.TypeMessage:
		c.onMessage(&f)
	case wire.TypeMetadata:
		c.onMetadata(&f)
	case wire.TypeEndOfStream:
		c.onEndOfStream(&f)
	case wire.TypeCancel:
		call, over := c.find(f.Seq, f.RPC)
		switch {
		case over:
			c.bury(call)
		case call != nil:
			c.inputDone(call)
			call.clientCancel()
			if !call.started {
				c.close(call) // no handler goroutine will
			}
		}
	}
}

func (c *Conn) malformed(err error) {
	var fe *wire.FrameError
	if !errors.As(err, &fe) || !fe.HasSeq {
		c.srv.logger.Info("swill: malformed frame dropped", "conn", c.id, "err", err)
		return
	}
	e := rpc.NewError(rpc.CodeBadRequest, "malformed frame: "+fe.Reason)
	if fe.RPC != "" {
		call, over := c.find(fe.Seq, []byte(fe.RPC))
		if over {
			return // the call has had its terminal frame
		}
		if call != nil {
			c.abort(call, e)
			return
		}
	}
	c.sendError(fe.Seq, e)
}

// find returns the open call (rpc, seq), or nil. over reports a call
// that ended while its client was still streaming to it: the frames of
// such a call are dropped (see retire).
func (c *Conn) find(seq int64, name []byte) (call *Call, over bool) {
	c.callsMu.Lock()
	defer c.callsMu.Unlock()
	for call := c.head(seq); call != nil; call = call.next {
		if call.h.name == string(name) {
			return call, call.over
		}
	}
	return nil, false
}

// inputDone records that the client will send nothing more for call.
func (c *Conn) inputDone(call *Call) {
	c.callsMu.Lock()
	call.inputDone = true
	c.callsMu.Unlock()
}

// bury forgets a call that was over, now that its client has ended its
// stream.
func (c *Conn) bury(call *Call) {
	c.callsMu.Lock()
	defer c.callsMu.Unlock()
	for i, o := range c.over {
		if o == call {
			c.over = append(c.over[:i], c.over[i+1:]...)
			c.unlink(call)
			return
		}
	}
}

// open registers a new call, or answers 404, 429 or 503 and returns nil.
func (c *Conn) open(f *wire.Request) *Call {
	r := c.srv.lookup(f.RPC)
	if r == nil {
		c.sendError(f.Seq, rpc.Errorf(rpc.CodeNotFound, "no handler named %q", f.RPC))
		return nil
	}
	if c.srv.closing.Load() {
		c.sendError(f.Seq, errShuttingDown())
		return nil
	}
	if c.srv.limits.CallsPerSecond > 0 {
		if wait := c.takeToken(); wait > 0 {
			c.sendError(f.Seq, errRateLimited(c.srv.limits.CallsPerSecond, wait))
			return nil
		}
	}
	h := r.h
	call := h.newCall()
	call.conn, call.route, call.h, call.seq, call.md = c, r, h, f.Seq, f.Metadata
	// The call's context has no parent: the connection cancels its calls
	// itself (see cancelCalls), and a call costs the connection's context
	// no registration. Its values still reach the connection's and the
	// upgrade request's (see callContext.Value).
	var inner context.Context
	if ms, ok := timeoutMillis(call.md[rpc.TimeoutKey]); ok {
		inner, call.cancel = context.WithTimeout(context.Background(), time.Duration(ms)*time.Millisecond)
	} else {
		inner, call.cancel = context.WithCancel(context.Background())
	}
	call.cctx = callContext{Context: inner, call: call}
	c.callsMu.Lock()
	if int(c.active.Load()) >= c.srv.limits.MaxConcurrentCalls {
		c.callsMu.Unlock()
		call.cancel()
		c.sendError(f.Seq, rpc.Errorf(rpc.CodeTooManyRequests, "too many concurrent calls on this connection (limit %d)", c.srv.limits.MaxConcurrentCalls))
		return nil
	}
	c.active.Add(1)
	call.next = c.head(f.Seq)
	c.setHead(f.Seq, call)
	doomed := c.doomed
	c.callsMu.Unlock()
	if doomed {
		call.cancel()
	}
	if h.kind.RequestStreams() {
		call.inq = newItemQueue()
	}
	return call
}

// failCalls ends every open call of the connection with e, and cancels
// every call opened after it at once: the server is shutting down.
func (c *Conn) failCalls(e *rpc.Error) {
	var open []*Call
	c.callsMu.Lock()
	c.doomed = true
	c.eachCall(func(call *Call) {
		if !call.over {
			open = append(open, call)
		}
	})
	c.callsMu.Unlock()
	for _, call := range open {
		call.fail(e)
	}
}

// takeToken takes one call from the connection's CallsPerSecond bucket,
// or returns how long until there is one.
func (c *Conn) takeToken() time.Duration {
	l := &c.srv.limits
	now := time.Now().UnixNano()
	c.callsMu.Lock()
	defer c.callsMu.Unlock()
	if c.filled == 0 {
		c.tokens = float64(l.CallBurst)
	} else {
		c.tokens = min(float64(l.CallBurst), c.tokens+float64(now-c.filled)*l.CallsPerSecond/1e9)
	}
	c.filled = now
	if c.tokens >= 1 {
		c.tokens--
		return 0
	}
	return time.Duration((1 - c.tokens) / l.CallsPerSecond * 1e9)
}

// errRateLimited is the 429 of a call past the CallsPerSecond limit;
// wait is how long until the connection may open one again.
func errRateLimited(rate float64, wait time.Duration) *rpc.Error {
	ms := max(1, int64(math.Ceil(float64(wait)/float64(time.Millisecond))))
	return rpc.Errorf(rpc.CodeTooManyRequests, "too many calls on this connection (limit %g per second); retry in %d ms", rate, ms).
		WithMetadata(rpc.Metadata{rpc.RetryAfterKey: ms})
}

// head returns the first open call with seq, or nil; the caller holds
// callsMu.
func (c *Conn) head(seq int64) *Call {
	if c.one != nil && c.one.seq == seq {
		return c.one
	}
	return c.calls[seq]
}

// setHead makes call (nil: none) the first open call with seq; the
// caller holds callsMu.
func (c *Conn) setHead(seq int64, call *Call) {
	switch {
	case c.one != nil && c.one.seq == seq:
		c.one = call
	case call == nil:
		delete(c.calls, seq)
	case c.one == nil && c.calls[seq] == nil:
		c.one = call
	default:
		if c.calls == nil {
			c.calls = map[int64]*Call{}
		}
		c.calls[seq] = call
	}
}

// eachCall calls f for every open call; the caller holds callsMu.
func (c *Conn) eachCall(f func(*Call)) {
	for call := c.one; call != nil; call = call.next {
		f(call)
	}
	for _, call := range c.calls {
		for ; call != nil; call = call.next {
			f(call)
		}
	}
}

func timeoutMillis(v any) (int64, bool) {
	var ms int64
	switch n := v.(type) {
	case int8:
		ms = int64(n)
	case int16:
		ms = int64(n)
	case int32:
		ms = int64(n)
	case int64:
		ms = n
	case uint8:
		ms = int64(n)
	case uint16:
		ms = int64(n)
	case uint32:
		ms = int64(n)
	case uint64:
		ms = int64(min(n, uint64(maxTimeoutMillis)))
	case float32:
		return floatMillis(float64(n))
	case float64:
		return floatMillis(n)
	default:
		return 0, false
	}
	return min(max(ms, 0), maxTimeoutMillis), true
}

// maxTimeoutMillis is the longest deadline a time.Duration holds (about
// 292 years); longer ones are cut to it rather than wrapping into the
// past.
const maxTimeoutMillis = int64(math.MaxInt64 / int64(time.Millisecond))

func floatMillis(f float64) (int64, bool) {
	switch {
	case math.IsNaN(f):
		return 0, false
	case f <= 0:
		return 0, true
	case f >= float64(maxTimeoutMillis):
		return maxTimeoutMillis, true
	}
	return int64(f), true
}

// abort ends an open call with err. A call opened by METADATA whose
// handler has not started is forgotten at once: no handler goroutine will
// do it, and it would hold its place among the concurrent calls until
// the connection closes.
func (c *Conn) abort(call *Call, err error) {
	call.fail(err)
	if !call.started {
		c.close(call)
	}
}

// close forgets a call whose handler has returned (or never started): it
// frees the call's place among the concurrent calls. Its place in the
// table was given up when it ended for the client; see retire.
func (c *Conn) close(call *Call) {
	call.cancel()
	c.lastEnd.Store(time.Now().UnixNano())
	c.retire(call)
	c.callsMu.Lock()
	c.active.Add(-1)
	c.callsMu.Unlock()
	if c.srv.closing.Load() {
		c.srv.notifyCallDone()
	}
}

// retire takes a call out of the table as soon as it has ended for the
// client, before its terminal frame goes out (or when the client
// cancelled it), so that the client may reuse its (rpc, seq) at once,
// even while the handler is still returning.
//
// A call whose client may still be streaming to it (the call ended before
// the client's END_OF_STREAM or CANCEL) stays in the table, marked over,
// until the client ends its stream: otherwise the client's next item
// would open a new call with the same (rpc, seq), which would run the
// handler on the rest of the stream and end with a second terminal
// frame. At most MaxConcurrentCalls such calls are kept per connection,
// the oldest forgotten first, so a client that never ends its streams
// cannot grow the table; they do not count against MaxConcurrentCalls.
func (c *Conn) retire(call *Call) {
	c.callsMu.Lock()
	defer c.callsMu.Unlock()
	if call.retired {
		return
	}
	call.retired = true
	if call.h.kind.RequestStreams() && !call.inputDone {
		call.over = true
		if len(c.over) >= c.srv.limits.MaxConcurrentCalls {
			c.unlink(c.over[0])
			c.over[0] = nil
			c.over = c.over[1:]
		}
		c.over = append(c.over, call)
		return
	}
	c.unlink(call)
}

// unlink removes call from the table; the caller holds callsMu.
func (c *Conn) unlink(call *Call) {
	p := c.head(call.seq)
	if p == call {
		c.setHead(call.seq, call.next)
	} else {
		for ; p != nil; p = p.next {
			if p.next == call {
				p.next = call.next
				break
			}
		}
	}
}

func (c *Conn) onMessage(f *wire.Request) {
	call, over := c.find(f.Seq, f.RPC)
	if over {
		return
	}
	if call == nil {
		if call = c.open(f); call == nil {
			return
		}
	} else if call.started && !call.h.kind.RequestStreams() {
		call.fail(rpc.Errorf(rpc.CodeBadRequest, "%s call %q seq %d already has its request; a second MESSAGE is not allowed", call.h.kind, call.h.name, call.seq))
		return
	} else if f.Metadata != nil && !call.started {
		call.md = call.md.Merge(f.Metadata)
	}
	var v any
	var err error
	if call.h.kind.RequestStreams() {
		v, err = call.h.decode(f.Data)
	} else {
		v = call.first
		err = call.h.decodeInto(f.Data, v)
	}
	if err != nil {
		e := decodeError(call.h, f.Data, err)
		if call.started {
			call.fail(e)
		} else {
			c.sendError(call.seq, e)
			c.close(call)
		}
		return
	}
	var raw []byte
	if c.srv.hooks.hasRequestData() {
		raw = append([]byte(nil), f.Data...)
	}
	if call.h.kind.RequestStreams() {
		if !call.inq.push(queuedItem{v: v, raw: raw}, c.srv.limits.MaxStreamItems) {
			call.fail(errQueueFull(c.srv.limits.MaxStreamItems))
			return
		}
		if !call.started {
			c.start(call)
		}
		return
	}
	call.raw = raw
	c.start(call)
}

func (c *Conn) onMetadata(f *wire.Request) {
	call, over := c.find(f.Seq, f.RPC)
	if over {
		return
	}
	if call != nil {
		c.abort(call, rpc.Errorf(rpc.CodeBadRequest, "METADATA for call %q seq %d after it started; request metadata goes first", call.h.name, call.seq))
		return
	}
	if call = c.open(f); call == nil {
		return
	}
	// A streaming call starts at once, so its handler can send before the
	// client's first item; a unary or server-stream call waits for its
	// MESSAGE.
	if call.h.kind.RequestStreams() {
		c.start(call)
	}
}

func (c *Conn) onEndOfStream(f *wire.Request) {
	call, over := c.find(f.Seq, f.RPC)
	if over {
		c.bury(call)
		return
	}
	if call == nil {
		return
	}
	if !call.h.kind.RequestStreams() {
		c.abort(call, rpc.Errorf(rpc.CodeBadRequest, "END_OF_STREAM for %s call %q seq %d, which takes no stream", call.h.kind, call.h.name, call.seq))
		return
	}
	c.inputDone(call)
	call.inq.end()
	if !call.started {
		c.start(call)
	}
}

// start runs the call's handler in a goroutine of its own, a pooled
// one, or inline.
func (c *Conn) start(call *Call) {
	call.started = true
	c.wg.Add(1)
	if c.rel != nil && call.h.kind == rpc.KindUnary {
		c.runInline(call)
		return
	}
	c.srv.workers.run(call)
}

func (c *Conn) run(call *Call) {
	defer c.wg.Done()
	defer c.close(call)
	s := c.srv
	ctx := &call.cctx
	var (
		res    any
		hasRes bool
		err    error
	)
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = s.panicked(ctx, call, p)
			}
		}()
		if err = s.hooks.beforeRequest(ctx, call); err != nil {
			return
		}
		if s.hooks.hasRequestMetadata() {
			if err = s.hooks.beforeRequestMetadata(ctx, call, call.Metadata()); err != nil {
				return
			}
		}
		switch call.h.kind {
		case rpc.KindUnary:
			if err = s.admit(ctx, call, call.raw, call.first, &s.hooks); err != nil {
				return
			}
			res, err = call.route.unary(ctx, call.first)
			hasRes = true
		case rpc.KindServerStream:
			if err = s.admit(ctx, call, call.raw, call.first, &s.hooks); err != nil {
				return
			}
			err = call.route.stream(ctx)
		default:
			err = call.route.stream(ctx)
			if call.h.kind == rpc.KindClientStream {
				call.mu.Lock()
				res, hasRes = call.res, call.hasRes
				call.mu.Unlock()
			}
		}
	}()
	if err != nil {
		call.failFrom(err, true)
	} else {
		call.finish(ctx, res, hasRes)
	}
	call.mu.Lock()
	canceled := call.canceled
	call.mu.Unlock()
	s.hooks.afterRequest(ctx, call, Outcome{Result: res, Err: err, Canceled: canceled})
}

// admit runs the request data and message hooks and the validator on one
// decoded request message.
func (s *Server) admit(ctx context.Context, call *Call, raw []byte, v any, hooks *hookSet) error {
	if raw != nil {
		if err := hooks.beforeRequestData(ctx, call, raw); err != nil {
			return err
		}
	}
	if err := hooks.beforeRequestMessage(ctx, call, v); err != nil {
		return err
	}
	if call.route.validate {
		if err := s.validator.Validate(v); err != nil {
			return asValidationError(err)
		}
	}
	return nil
}

// sendError queues an ERROR frame from the read path.
func (c *Conn) sendError(seq int64, e *rpc.Error) {
	if c.rel != nil {
		c.pushHeld(nil, errorFrame(seq, e))
		return
	}
	c.push(nil, errorFrame(seq, e), false)
}

// enqueue hands a frame of call to the writer, starting it if it is
// idle. Frames for a closed connection are dropped.
func (c *Conn) enqueue(call *Call, b *wire.Buffer) { c.push(call, b, false) }

// push queues a frame. Without a running writer, it starts one; or, with
// mayWrite, it makes the caller the writer instead and returns true: the
// caller must then call write(true), outside its own locks. Only the
// goroutine of a call that is ending passes mayWrite: it may block on the
// network, and writing the batch itself spares starting a goroutine. The
// read path never does.
func (c *Conn) push(call *Call, b *wire.Buffer, mayWrite bool) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed {
		wire.PutBuffer(b)
		return false
	}
	c.queue = append(c.queue, outFrame{b, call})
	c.queued += frameCost(b)
	if c.writing {
		return false
	}
	c.writing = true
	if mayWrite {
		return true
	}
	c.wg.Add(1)
	go c.writer()
	return false
}

// pushEnd queues the terminal frame of call, like push; from the
// goroutine of an inline call, the frame waits for HandleIdle.
func (c *Conn) pushEnd(call *Call, b *wire.Buffer, mayWrite bool) bool {
	if mayWrite && c.holds(call) {
		c.pushHeld(call, b)
		return false
	}
	return c.push(call, b, mayWrite)
}

// pushHeld queues a frame from the reader's goroutine of a transport that
// calls HandleIdle: unless a writer runs, the frame waits for it.
func (c *Conn) pushHeld(call *Call, b *wire.Buffer) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed {
		wire.PutBuffer(b)
		return
	}
	c.queue = append(c.queue, outFrame{b, call})
	c.queued += frameCost(b)
	if !c.writing {
		c.held = true
	}
}

// outFrame is one frame waiting to be written, and the call it belongs
// to (nil for an ERROR frame that answers no open call): the frames of a
// call the client cancelled are dropped instead of written.
type outFrame struct {
	b    *wire.Buffer
	call *Call
}

// dropped reports whether f belongs to a call the client cancelled.
func (f outFrame) dropped() bool { return f.call != nil && f.call.dropped.Load() }

// frameOverhead is what a queued frame costs besides its buffer's bytes:
// the wire.Buffer and its place in the queue.
const frameOverhead = 48

// frameCost is the memory a queued frame holds, which MaxQueueBytes
// bounds: its buffer's capacity, not only the frame's length, so that a
// stream of small items cannot hold many times the limit in half-empty
// pooled buffers.
func frameCost(b *wire.Buffer) int { return cap(b.B) + frameOverhead }

// dropFrames drops the frames of call still queued: the client cancelled
// it, and nothing more goes out for it. Frames the writer has taken are
// skipped as it comes to them (see outFrame.dropped), so a cancel takes
// effect on the wire within what the transport already holds.
func (c *Conn) dropFrames(call *Call) {
	call.dropped.Store(true)
	c.wmu.Lock()
	keep := c.queue[:0]
	var drop []*wire.Buffer
	for _, f := range c.queue {
		if f.call == call {
			c.queued -= frameCost(f.b)
			drop = append(drop, f.b)
			continue
		}
		keep = append(keep, f)
	}
	clear(c.queue[len(keep):])
	c.queue = keep
	c.signalSpace()
	c.wmu.Unlock()
	for _, b := range drop {
		wire.PutBuffer(b)
	}
}

// signalSpace wakes the senders waiting for room in the queue, if there
// is room now; the caller holds wmu.
func (c *Conn) signalSpace() {
	if c.space != nil && c.queued < c.srv.limits.MaxQueueBytes {
		close(c.space)
		c.space = nil
	}
}

// errorFrame encodes an ERROR frame.
func errorFrame(seq int64, e *rpc.Error) *wire.Buffer {
	b := wire.GetBuffer()
	enc := wire.GetEncoder()
	enc.Error(b, seq, e)
	wire.PutEncoder(enc)
	return b
}

// hasSpace reports whether the connection is open and its outgoing
// queue under its limit.
func (c *Conn) hasSpace() (open, space bool) {
	c.wmu.Lock()
	open, space = !c.closed, c.queued < c.srv.limits.MaxQueueBytes
	c.wmu.Unlock()
	return open, space
}

// waitSpace blocks while the outgoing queue is over its limit.
func (c *Conn) waitSpace(ctx context.Context) error {
	for {
		c.wmu.Lock()
		if c.closed || c.queued < c.srv.limits.MaxQueueBytes {
			c.wmu.Unlock()
			return nil
		}
		if c.space == nil {
			c.space = make(chan struct{})
		}
		ch := c.space
		c.wmu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Batching: when the queue runs dry while other calls are open, their
// responses are likely a moment away (their handlers are running, or
// runnable, on this very thread). The writer then yields before flushing,
// up to maxYields times per flush and while the batch is smaller than
// yieldBelow bytes, so that several frames leave in one system call. A
// lone call is flushed at once: sequential calls pay no delay.
const (
	maxYields  = 2
	yieldBelow = 32 << 10
)

func (c *Conn) writeLoop() {
	defer c.wg.Done()
	c.write(false)
}

// write drains the queue, flushing whenever it runs dry, until it is
// empty and flushed; then it sends the close frame if one is pending. It
// runs on the writer goroutine, or, inline, on the goroutine of a call
// for one batch (see push): once that is flushed, it stops, handing what
// remains to a writer goroutine. Only one write runs at a time
// (c.writing).
func (c *Conn) write(inline bool) {
	held, yields := 0, 0 // bytes written since the last flush; yields for them
	for {
		c.wmu.Lock()
		if len(c.queue) == 0 {
			if held > 0 {
				c.wmu.Unlock()
				if yields < maxYields && held < yieldBelow && c.active.Load() > 1 {
					yields++
					runtime.Gosched()
					continue
				}
				if err := c.tc.Flush(); err != nil {
					c.writeFailed(err)
					return
				}
				if inline {
					c.wmu.Lock()
					if len(c.queue) > 0 || c.closePending {
						c.wg.Add(1) // this goroutine is counted in wg: it may grow
						go c.writer()
						c.wmu.Unlock()
						return
					}
					c.writing = false
					c.wmu.Unlock()
					return
				}
				held, yields = 0, 0
				continue
			}
			c.writing = false
			pending := c.closePending
			c.closePending = false
			code, reason := c.closeCode, c.closeReason
			c.wmu.Unlock()
			if pending {
				c.tc.Close(code, reason)
			}
			return
		}
		batch := c.queue
		c.queue = c.spare[:0]
		c.spare = nil
		c.wmu.Unlock()

		n, cost := 0, 0
		var err error
		for i, f := range batch {
			if err == nil && !f.dropped() {
				err = c.tc.WriteMessage(f.b.B)
				n += len(f.b.B)
			}
			cost += frameCost(f.b)
			wire.PutBuffer(f.b)
			batch[i] = outFrame{}
		}
		held += n

		c.wmu.Lock()
		c.queued -= cost
		c.signalSpace()
		if cap(c.queue) == 0 {
			c.queue = batch[:0] // nothing was queued meanwhile: keep one slice
		} else {
			c.spare = batch[:0]
		}
		c.wmu.Unlock()
		if err != nil {
			c.writeFailed(err)
			return
		}
	}
}

// writeFailed ends a writer whose transport failed: the connection is
// closed and whatever is queued is dropped.
func (c *Conn) writeFailed(err error) {
	if !errors.Is(err, transport.ErrClosed) {
		c.srv.logger.Warn("swill: write failed, closing the connection", "conn", c.id, "err", err)
	}
	c.wmu.Lock()
	c.writing = false
	c.closed = true
	c.closePending = false
	c.wmu.Unlock()
	c.dropQueue()
	c.tc.Close(transport.StatusGoingAway, "write failed")
}

func (c *Conn) dropQueue() {
	c.wmu.Lock()
	batch := c.queue
	c.queue = nil
	c.queued = 0
	c.signalSpace()
	c.wmu.Unlock()
	for _, f := range batch {
		wire.PutBuffer(f.b)
	}
}

// keepalive pings the peer and closes the connection when the pong does
// not come in time. Its context is not the connection's, which an idle
// connection does not hold (see Context): HandleClose cancels it.
func (c *Conn) keepalive() {
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.limits.PingTimeout)
	defer cancel()
	c.valuesMu.Lock()
	if c.ended {
		c.valuesMu.Unlock()
		return
	}
	c.ping = cancel
	c.valuesMu.Unlock()
	err := c.tc.Ping(ctx)
	c.valuesMu.Lock()
	c.ping = nil
	ended := c.ended
	c.valuesMu.Unlock()
	if err != nil && !ended {
		c.srv.logger.Info("swill: keepalive failed, closing", "conn", c.id, "err", err)
		c.closeWith(transport.StatusGoingAway, "keepalive timeout")
	}
}
