package swill

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/transport"
)

// Dispatch: the read path. handleMessage parses each frame the transport
// delivers and routes it to its call in the connection's table, opening
// calls (open), feeding their input, cancelling them, and starting their
// handlers (start) on a worker or inline. It never blocks: answers from
// the read path are queued in the outbox.

// handleMessage is [transport.Handler.HandleMessage] (see connHandler):
// it reads one frame and dispatches it. Calls run on workers, or, on a transport that can
// release its reader, unary calls run here (see inline.go).
func (c *Conn) handleMessage(typ transport.MessageType, data []byte) {
	c.act.received()
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
		call, over := c.table.find(f.Seq, f.RPC)
		switch {
		case over:
			c.table.bury(call)
		case call != nil:
			c.table.inputDone(call)
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
		call, over := c.table.find(fe.Seq, []byte(fe.RPC))
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
		if wait := c.table.takeToken(&c.srv.limits); wait > 0 {
			c.sendError(f.Seq, errRateLimited(c.srv.limits.CallsPerSecond, wait))
			return nil
		}
	}
	h := r.h
	call := h.newCall()
	call.conn, call.route, call.h, call.seq, call.md = c, r, h, f.Seq, f.Metadata
	// The call's context has no parent: the connection cancels its calls
	// itself (see failCalls and handleClose), and a call costs the connection's context
	// no registration. Its values still reach the connection's and the
	// upgrade request's (see callContext.Value).
	var inner context.Context
	inner, call.cancel = callDeadline(call.md)
	call.cctx = callContext{Context: inner, call: call}
	ok, doomed := c.table.add(call, c.srv.limits.MaxConcurrentCalls)
	if !ok {
		call.cancel()
		c.sendError(f.Seq, rpc.Errorf(rpc.CodeTooManyRequests, "too many concurrent calls on this connection (limit %d)", c.srv.limits.MaxConcurrentCalls))
		return nil
	}
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
	for _, call := range c.table.doom() {
		call.fail(e)
	}
}

// errRateLimited is the 429 of a call past the CallsPerSecond limit;
// wait is how long until the connection may open one again.
func errRateLimited(rate float64, wait time.Duration) *rpc.Error {
	ms := max(1, int64(math.Ceil(float64(wait)/float64(time.Millisecond))))
	return rpc.Errorf(rpc.CodeTooManyRequests, "too many calls on this connection (limit %g per second); retry in %d ms", rate, ms).
		WithMetadata(rpc.Metadata{rpc.RetryAfterKey: ms})
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
	c.act.callEnded()
	c.retire(call)
	c.table.ended()
	if c.srv.closing.Load() {
		c.srv.notifyCallDone()
	}
}

func (c *Conn) onMessage(f *wire.Request) {
	call, over := c.table.find(f.Seq, f.RPC)
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
	call, over := c.table.find(f.Seq, f.RPC)
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
	call, over := c.table.find(f.Seq, f.RPC)
	if over {
		c.table.bury(call)
		return
	}
	if call == nil {
		return
	}
	if !call.h.kind.RequestStreams() {
		c.abort(call, rpc.Errorf(rpc.CodeBadRequest, "END_OF_STREAM for %s call %q seq %d, which takes no stream", call.h.kind, call.h.name, call.seq))
		return
	}
	c.table.inputDone(call)
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
		c.out.writeHeld(c, nil, errorFrame(seq, e))
		return
	}
	c.out.push(nil, errorFrame(seq, e), false)
}

// enqueue hands a frame of call to the writer, starting it if it is
// idle. Frames for a closed connection are dropped.
func (c *Conn) enqueue(call *Call, b *wire.Buffer) { c.out.push(call, b, false) }

// retire takes call out of the table once it has ended for the client;
// see callTable.retire.
func (c *Conn) retire(call *Call) { c.table.retire(call, c.srv.limits.MaxConcurrentCalls) }
