package swill

import (
	"sync"
	"sync/atomic"
	"time"
)

// callTable holds a connection's open calls by seq, each seq a list of
// the calls with that seq (linked by Call.next): a client may reuse a
// seq for another rpc. The first seq goes in one, the others in calls,
// allocated only when a client has several calls open at once. It also
// keeps the calls that are over but may still receive the client's last
// frames (see retire), and the CallsPerSecond bucket. Its methods lock
// mu; those that say so expect it held.
type callTable struct {
	mu     sync.Mutex
	one    *Call
	calls  map[int64]*Call
	active atomic.Int32 // open calls; changed under mu, read anywhere
	over   []*Call      // calls kept only to absorb the client's last frames, oldest first
	doomed bool         // every call is cancelled, those opened later at once
	tokens float64      // the CallsPerSecond bucket: calls it allows now
	filled int64        // unix nanoseconds when tokens was last brought up to date; 0: full
}

// add registers call, unless the connection already has limit calls
// open. doomed reports that the connection is closing: the caller
// cancels the call at once.
func (t *callTable) add(call *Call, limit int) (ok, doomed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if int(t.active.Load()) >= limit {
		return false, false
	}
	t.active.Add(1)
	call.next = t.head(call.seq)
	t.setHead(call.seq, call)
	return true, t.doomed
}

// ended frees the place of a call among the concurrent calls; it left
// the table itself when it retired.
func (t *callTable) ended() {
	t.mu.Lock()
	t.active.Add(-1)
	t.mu.Unlock()
}

// doom makes every call opened from now on cancelled at once, and
// returns the open calls that are not over.
func (t *callTable) doom() []*Call {
	var open []*Call
	t.mu.Lock()
	t.doomed = true
	t.eachCall(func(call *Call) {
		if !call.over {
			open = append(open, call)
		}
	})
	t.mu.Unlock()
	return open
}

// clear cancels every call and empties the table: the connection has
// ended.
func (t *callTable) clear() {
	t.mu.Lock()
	t.doomed = true
	t.eachCall(func(call *Call) { call.cancel() })
	t.one, t.calls = nil, nil
	t.over = nil
	t.mu.Unlock()
}

// find returns the open call (rpc, seq), or nil. over reports a call
// that ended while its client was still streaming to it: the frames of
// such a call are dropped (see retire).
func (t *callTable) find(seq int64, name []byte) (call *Call, over bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for call := t.head(seq); call != nil; call = call.next {
		if call.h.name == string(name) {
			return call, call.over
		}
	}
	return nil, false
}

// inputDone records that the client will send nothing more for call.
func (t *callTable) inputDone(call *Call) {
	t.mu.Lock()
	call.inputDone = true
	t.mu.Unlock()
}

// bury forgets a call that was over, now that its client has ended its
// stream.
func (t *callTable) bury(call *Call) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, o := range t.over {
		if o == call {
			t.over = append(t.over[:i], t.over[i+1:]...)
			t.unlink(call)
			return
		}
	}
}

// takeToken takes one call from the connection's CallsPerSecond bucket,
// or returns how long until there is one.
func (t *callTable) takeToken(l *Limits) time.Duration {
	now := time.Now().UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.filled == 0 {
		t.tokens = float64(l.CallBurst)
	} else {
		t.tokens = min(float64(l.CallBurst), t.tokens+float64(now-t.filled)*l.CallsPerSecond/1e9)
	}
	t.filled = now
	if t.tokens >= 1 {
		t.tokens--
		return 0
	}
	return time.Duration((1 - t.tokens) / l.CallsPerSecond * 1e9)
}

// head returns the first open call with seq, or nil; the caller holds
// mu.
func (t *callTable) head(seq int64) *Call {
	if t.one != nil && t.one.seq == seq {
		return t.one
	}
	return t.calls[seq]
}

// setHead makes call (nil: none) the first open call with seq; the
// caller holds mu.
func (t *callTable) setHead(seq int64, call *Call) {
	switch {
	case t.one != nil && t.one.seq == seq:
		t.one = call
	case call == nil:
		delete(t.calls, seq)
	case t.one == nil && t.calls[seq] == nil:
		t.one = call
	default:
		if t.calls == nil {
			t.calls = map[int64]*Call{}
		}
		t.calls[seq] = call
	}
}

// eachCall calls f for every open call; the caller holds mu.
func (t *callTable) eachCall(f func(*Call)) {
	for call := t.one; call != nil; call = call.next {
		f(call)
	}
	for _, call := range t.calls {
		for ; call != nil; call = call.next {
			f(call)
		}
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
// cannot grow the table; they do not count against MaxConcurrentCalls. keep is that limit.
func (t *callTable) retire(call *Call, keep int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if call.retired {
		return
	}
	call.retired = true
	if call.h.kind.RequestStreams() && !call.inputDone {
		call.over = true
		if len(t.over) >= keep {
			t.unlink(t.over[0])
			t.over[0] = nil
			t.over = t.over[1:]
		}
		t.over = append(t.over, call)
		return
	}
	t.unlink(call)
}

// unlink removes call from the table; the caller holds mu.
func (t *callTable) unlink(call *Call) {
	p := t.head(call.seq)
	if p == call {
		t.setHead(call.seq, call.next)
	} else {
		for ; p != nil; p = p.next {
			if p.next == call {
				p.next = call.next
				break
			}
		}
	}
}
