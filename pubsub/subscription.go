package pubsub

import (
	"errors"
	"sync"

	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// subscription is one connection's subscription to one channel or
// pattern: a client's (its stream is call) or the server's (its items go
// to the connection's swill.inbox).
type subscription struct {
	hub     *Hub
	key     string
	pattern bool
	conn    *swill.Conn
	call    *swill.Call // nil for a subscription the server made
	cs      *connState
	spec    *ChannelSpec
	info    []byte // the encoded rpc.ClientInfo, for presence
	idx     int    // in keySubs.subs; under hub.mu

	mu        sync.Mutex
	buffering bool // starting: live publications wait in pending
	pending   []pendingPub
	epoch     string
	last      uint64 // the offset of the latest publication sent
	ended     bool
	err       error // why it ended; nil for an unsubscribe or a replacement
	done      chan struct{}
	gone      chan struct{} // closed once a client subscription's handler has cleaned up
}

type pendingPub struct {
	item   []byte
	offset uint64
	epoch  string
}

func newSubscription(h *Hub, key string, pattern bool, conn *swill.Conn, call *swill.Call, cs *connState, spec *ChannelSpec) *subscription {
	return &subscription{hub: h, key: key, pattern: pattern, conn: conn, call: call, cs: cs, spec: spec,
		idx: -1, buffering: true, done: make(chan struct{}), gone: make(chan struct{})}
}

// Errors a subscription can end with. Both ask the client to subscribe
// again with its last position: it then recovers what it missed from
// history, or learns that it cannot.
var (
	errSlow        = rpc.NewError(rpc.CodeTooManyRequests, "pubsub: subscriber too slow: its connection's outgoing queue is full")
	errInterrupted = rpc.NewError(rpc.CodeUnavailable, "pubsub: publications were missed: subscribe again from the last offset to recover")
)

// errDraining ends the subscriptions of a server shutting down, with the
// retry hint of its other 503s; a new value each time, since hooks may
// change an error's metadata in place.
func errDraining() *rpc.Error {
	return &rpc.Error{Code: rpc.CodeUnavailable, Message: "pubsub: the server is shutting down: subscribe again, on another server",
		Metadata: rpc.Metadata{rpc.RetryAfterKey: 100}}
}

// deliver sends one publication's item; the hub calls it for one key
// from one goroutine at a time, with hub.mu read-locked.
func (s *subscription) deliver(item []byte, pub *Publication) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	if s.buffering {
		s.pending = append(s.pending, pendingPub{append([]byte(nil), item...), pub.Offset, pub.Epoch})
		return
	}
	s.sendLocked(item, pub.Offset, pub.Epoch)
}

// sendLocked sends an item unless it was already sent, and ends the
// subscription when the connection cannot take it or a gap shows that
// publications were lost on the way.
func (s *subscription) sendLocked(item []byte, offset uint64, epoch string) {
	if offset != 0 && !s.pattern { // a pattern mixes channels: offsets are per channel
		if s.epoch != "" && epoch != s.epoch {
			// The channel's history was lost (a new epoch): the client's
			// position no longer holds, and it must learn so.
			s.hub.stats.interrupted.Add(1)
			s.endLocked(errInterrupted)
			return
		}
		if epoch == s.epoch {
			if offset <= s.last {
				return // sent already (recovery and live overlap)
			}
			if s.last != 0 && offset > s.last+1 {
				s.hub.stats.interrupted.Add(1)
				s.endLocked(errInterrupted)
				return
			}
		}
		s.epoch, s.last = epoch, offset
	}
	call := s.call
	if call == nil {
		if call = s.cs.inbox.Load(); call == nil {
			s.hub.stats.noInbox.Add(1)
			return
		}
	}
	switch err := call.TrySendRaw(item); {
	case err == nil:
	case errors.Is(err, swill.ErrQueueFull):
		if s.call == nil {
			s.hub.stats.slow.Add(1)
			return // the inbox is the connection's: drop, and count it
		}
		s.hub.stats.slow.Add(1)
		s.hub.log.Warn("pubsub: slow subscriber dropped", "conn", s.conn.ID(), "channel", s.key)
		s.endLocked(errSlow)
	}
}

// goLive sends the recovered items, then what arrived meanwhile, and
// switches to live delivery.
func (s *subscription) goLive(recovered []Publication) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ib := itemPool.Get().(*itemBuf)
	for i := range recovered {
		if s.ended {
			break
		}
		ib.b = appendItem(ib.b[:0], &recovered[i])
		s.sendLocked(ib.b, recovered[i].Offset, recovered[i].Epoch)
	}
	itemPool.Put(ib)
	for _, p := range s.pending {
		if s.ended {
			break
		}
		s.sendLocked(p.item, p.offset, p.epoch)
	}
	s.pending = nil
	s.buffering = false
}

// end ends the subscription with err (nil: cleanly).
func (s *subscription) end(err error) {
	s.mu.Lock()
	s.endLocked(err)
	s.mu.Unlock()
}

func (s *subscription) endLocked(err error) {
	if s.ended {
		return
	}
	s.ended, s.err = true, err
	close(s.done)
}
