package swill

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
)

// Call is one call in progress on a connection. Handlers, interceptors
// and hooks reach it with [CallFromContext]. Its methods are safe for
// concurrent use.
type Call struct {
	cctx   callContext
	cancel context.CancelFunc
	conn   *Conn
	route  *route
	h      *Handler
	seq    int64
	md     rpc.Metadata // nil until needed when the request has none; see Metadata

	// Owned by the connection's read path, under conn.table.mu.
	started   bool
	inputDone bool  // the client ended its stream: END_OF_STREAM or CANCEL
	retired   bool  // out of the table, or over; see Conn.retire
	over      bool  // ended while the client was still streaming to it
	next      *Call // another open call with the same seq

	mu          sync.Mutex
	finished    bool // the terminal frame went out, or the client cancelled
	canceled    bool // the client sent CANCEL
	leading     rpc.Metadata
	leadingSent bool
	trailing    rpc.Metadata
	res         any
	hasRes      bool

	// Inline calls (see inline.go): inline and since are set before the
	// call runs; released is guarded by conn.inlineMu.
	inline   bool
	since    int64 // unix nanoseconds: when the request was read
	released bool  // the reader went on without this call

	dropped atomic.Bool // the client cancelled: frames still queued are not written

	first any        // the *Req of a unary or server-stream call, allocated with it
	raw   []byte     // its raw payload, kept only for BeforeRequestData hooks
	inq   *itemQueue // the client's stream, for client-stream and bidi calls
}

type callKey struct{}

// callContext is the handler's context: the call's cancellable context
// plus the call itself, without a separate context.WithValue allocation.
// Its values are the call's, then the connection's ([Conn.Set]), then the
// upgrade request's context's; its cancellation is the call's own.
type callContext struct {
	context.Context
	call *Call
}

func (c *callContext) Value(key any) any {
	switch key {
	case callKey{}:
		return c.call
	case connKey{}:
		return c.call.conn
	}
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.call.conn.value(key)
}

// CallFromContext returns the call a handler, interceptor or hook is
// serving, or nil when ctx does not belong to a call.
func CallFromContext(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}

// Name returns the rpc name of the call.
func (c *Call) Name() string { return c.h.name }

// Kind returns the kind of the call.
func (c *Call) Kind() rpc.Kind { return c.h.kind }

// Seq returns the sequence number the client chose for the call.
func (c *Call) Seq() int64 { return c.seq }

// Handler returns the handler serving the call.
func (c *Call) Handler() *Handler { return c.h }

// Conn returns the connection the call arrived on.
func (c *Call) Conn() *Conn { return c.conn }

// Metadata returns the request metadata: from the call's first frame, or
// from the METADATA frame that opened it. It is never nil. Hooks at the
// BeforeRequestMetadata stage may change it; handlers should treat it as
// read-only.
func (c *Call) Metadata() rpc.Metadata {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.md == nil {
		c.md = rpc.Metadata{}
	}
	return c.md
}

// ErrHeaderSent is returned when leading metadata is set after it was
// sent: it goes out at most once per call.
var ErrHeaderSent = errors.New("swill: leading metadata already sent")

// ErrCallEnded is returned when metadata is set or sent after the call
// ended.
var ErrCallEnded = errors.New("swill: call already ended")

// SetHeader merges md into the leading metadata, which goes out with the
// first message (the unary result, or the first stream item), or with
// END_OF_STREAM when a stream has no item.
func (c *Call) SetHeader(md rpc.Metadata) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leadingSent {
		return ErrHeaderSent
	}
	if c.finished {
		return ErrCallEnded
	}
	c.leading = c.leading.Merge(md)
	return nil
}

// SendHeader merges md into the leading metadata and sends it at once in a
// METADATA frame, before any message.
func (c *Call) SendHeader(md rpc.Metadata) error {
	c.mu.Lock()
	if c.leadingSent {
		c.mu.Unlock()
		return ErrHeaderSent
	}
	if c.finished {
		c.mu.Unlock()
		return ErrCallEnded
	}
	leading := c.leading.Merge(md)
	if leading == nil {
		leading = rpc.Metadata{}
	}
	c.mu.Unlock()
	ctx := &c.cctx
	if err := c.conn.srv.hooks.beforeLeadingMetadata(ctx, c, leading); err != nil {
		c.fail(err)
		return err
	}
	b := wire.GetBuffer()
	enc := wire.GetEncoder()
	err := enc.Response(b, c.seq, wire.TypeMetadata, nil, leading, nil)
	wire.PutEncoder(enc)
	if err != nil {
		wire.PutBuffer(b)
		return rpc.Errorf(rpc.CodeInternal, "swill: encoding leading metadata: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leadingSent {
		wire.PutBuffer(b)
		return ErrHeaderSent
	}
	if c.finished {
		wire.PutBuffer(b)
		return ErrCallEnded
	}
	c.leadingSent = true
	c.leading = nil
	c.conn.enqueue(c, b)
	return nil
}

// SetTrailer merges md into the trailing metadata, which goes out with the
// unary or client-stream result, or with END_OF_STREAM.
func (c *Call) SetTrailer(md rpc.Metadata) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished {
		return ErrCallEnded
	}
	c.trailing = c.trailing.Merge(md)
	return nil
}

// takeLeading returns the leading metadata to attach to the next frame,
// at most once, after the BeforeLeadingMetadata hooks.
func (c *Call) takeLeading() (rpc.Metadata, error) {
	c.mu.Lock()
	if c.leadingSent {
		c.mu.Unlock()
		return nil, nil
	}
	c.leadingSent = true
	md := c.leading
	c.leading = nil
	c.mu.Unlock()
	if md == nil {
		return nil, nil
	}
	if err := c.conn.srv.hooks.beforeLeadingMetadata(&c.cctx, c, md); err != nil {
		return nil, err
	}
	return md, nil
}

// setResult records the single response of a client-stream call.
func (c *Call) setResult(res any) {
	c.mu.Lock()
	c.res, c.hasRes = res, true
	c.mu.Unlock()
}

// sendItem sends one server stream item, waiting while the connection's
// outgoing queue is full. Items of a call that has ended are dropped.
func (c *Call) sendItem(ctx context.Context, v any) error {
	if c.isFinished() {
		return ErrCallEnded
	}
	leading, err := c.takeLeading()
	if err != nil {
		return err
	}
	if err := c.conn.srv.hooks.beforeResponseMessage(ctx, c, v); err != nil {
		return err
	}
	if err := c.conn.out.waitSpace(ctx); err != nil {
		return err
	}
	b := wire.GetBuffer()
	enc := wire.GetEncoder()
	err = enc.Response(b, c.seq, wire.TypeMessage, v, leading, nil)
	wire.PutEncoder(enc)
	if err != nil {
		wire.PutBuffer(b)
		return rpc.Errorf(rpc.CodeInternal, "swill: encoding a stream item: %w", err)
	}
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		wire.PutBuffer(b)
		return ErrCallEnded
	}
	c.conn.enqueue(c, b)
	c.mu.Unlock()
	return nil
}

func (c *Call) isFinished() bool {
	c.mu.Lock()
	f := c.finished
	c.mu.Unlock()
	return f
}

// fail ends the call now with an ERROR frame for err (unless it already
// ended) and cancels its context. The handler's eventual return is then
// ignored.
func (c *Call) fail(err error) { c.failFrom(err, false) }

// failFrom is fail; the goroutine of a call that is ending passes
// mayWrite (see Conn.push).
func (c *Call) failFrom(err error, mayWrite bool) {
	if c.isFinished() {
		c.cancel()
		return
	}
	e := c.conn.srv.wireError(&c.cctx, c, err)
	write := false
	c.mu.Lock()
	if !c.finished {
		c.finished = true
		c.conn.retire(c)
		write = c.conn.pushEnd(c, errorFrame(c.seq, e), mayWrite)
	}
	c.mu.Unlock()
	c.cancel()
	if write {
		c.conn.out.write(true)
	}
}

// clientCancel handles CANCEL: nothing more goes out for the call, and
// what it had queued is dropped.
func (c *Call) clientCancel() {
	c.mu.Lock()
	drop := !c.finished
	if drop {
		c.finished = true
		c.canceled = true
		c.conn.retire(c)
	}
	c.mu.Unlock()
	c.cancel()
	if drop {
		c.conn.out.dropFrames(c)
	}
}

// finish sends the terminal frame for a handler that returned, unless the
// call already ended. Only the call's goroutine calls it.
func (c *Call) finish(ctx context.Context, res any, hasRes bool) {
	leading, err := c.takeLeading()
	if err == nil && hasRes {
		err = c.conn.srv.hooks.beforeResponseMessage(ctx, c, res)
	}
	var trailing rpc.Metadata
	if err == nil {
		c.mu.Lock()
		trailing = c.trailing
		c.mu.Unlock()
		if trailing != nil {
			err = c.conn.srv.hooks.beforeTrailingMetadata(ctx, c, trailing)
		}
	}
	if err != nil {
		c.failFrom(err, true)
		return
	}
	typ := wire.TypeMessage
	if !hasRes {
		typ = wire.TypeEndOfStream
		res = nil
	}
	b := wire.GetBuffer()
	enc := wire.GetEncoder()
	encErr := enc.Response(b, c.seq, typ, res, leading, trailing)
	wire.PutEncoder(enc)
	if encErr != nil {
		wire.PutBuffer(b)
		c.conn.srv.logger.Error("swill: encoding a response", "rpc", c.h.name, "conn", c.conn.id, "err", encErr)
		c.failFrom(rpc.Errorf(rpc.CodeInternal, "encoding the response: %w", encErr), true)
		return
	}
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		wire.PutBuffer(b)
		return
	}
	c.finished = true
	c.conn.retire(c)
	write := c.conn.pushEnd(c, b, true)
	c.mu.Unlock()
	if write {
		c.conn.out.write(true)
	}
}

// Draining returns a channel that is closed when [Server.Shutdown]
// begins. Shutdown waits for open calls to end until its deadline; a call
// that waits for events rather than does work (a subscription, a watch)
// can end at once instead, so that its client moves to another server
// without waiting for the deadline.
func (c *Call) Draining() <-chan struct{} { return c.conn.srv.draining }

// ErrQueueFull is returned by [Call.TrySendRaw] when the connection's
// outgoing queue already holds [Limits].MaxQueueBytes: the peer is not
// reading as fast as items are sent.
var ErrQueueFull = errors.New("swill: outgoing queue full")

// TrySendRaw queues item, one already encoded MsgPack value, as the next
// item of a server or bidirectional stream, without waiting: it returns
// [ErrQueueFull] when the connection's outgoing queue is over its bound,
// and [ErrCallEnded] once the call has ended. It may be called from any
// goroutine, concurrently with the handler; items from one goroutine go
// out in the order they were sent.
//
// It is the path of values encoded once and sent to many connections
// (publications, for one): item is copied into the frame, so the caller
// may share it, and the BeforeResponseMessage hooks do not run for it.
// Leading metadata set and not yet sent goes out first, in a METADATA frame.
func (c *Call) TrySendRaw(item []byte) error {
	if !c.h.kind.ResponseStreams() {
		return errNotStream
	}
	c.mu.Lock()
	pending := !c.leadingSent && c.leading != nil
	c.mu.Unlock()
	if pending {
		if err := c.SendHeader(nil); err != nil && err != ErrHeaderSent {
			return err
		}
	}
	switch open, space := c.conn.out.hasSpace(); {
	case !open:
		return ErrCallEnded
	case !space:
		return ErrQueueFull
	}
	b := wire.GetBuffer()
	wire.RawResponse(b, c.seq, wire.TypeMessage, item)
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		wire.PutBuffer(b)
		return ErrCallEnded
	}
	c.leadingSent = true
	c.conn.enqueue(c, b)
	c.mu.Unlock()
	return nil
}

var errNotStream = errors.New("swill: TrySendRaw on a call that does not stream responses")
