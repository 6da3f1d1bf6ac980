package swill

import (
	"context"
	"sync"

	"github.com/swillorg/swill-go/rpc"
)

// itemQueue holds the client's stream items between the read path, which
// must never block, and the handler, which takes them at its own pace. It
// is bounded: a client that outruns its handler by more than the limit
// fails the call with 429 instead of growing server memory.
type itemQueue struct {
	mu     sync.Mutex
	items  []queuedItem
	head   int
	ended  bool
	notify chan struct{}
}

type queuedItem struct {
	v   any    // the decoded *Req
	raw []byte // a copy of the payload, only when BeforeRequestData hooks exist
}

func newItemQueue() *itemQueue { return &itemQueue{notify: make(chan struct{}, 1)} }

// push appends an item; it reports false when the queue is full.
func (q *itemQueue) push(it queuedItem, limit int) bool {
	q.mu.Lock()
	if len(q.items)-q.head >= limit {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, it)
	q.mu.Unlock()
	q.wake()
	return true
}

// end records the client's END_OF_STREAM.
func (q *itemQueue) end() {
	q.mu.Lock()
	q.ended = true
	q.mu.Unlock()
	q.wake()
}

func (q *itemQueue) wake() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// next returns the next item, or false once the stream ended and is
// drained, or when ctx or stop ends first.
func (q *itemQueue) next(ctx context.Context, stop <-chan struct{}) (queuedItem, bool) {
	for {
		q.mu.Lock()
		if q.head < len(q.items) {
			it := q.items[q.head]
			q.items[q.head] = queuedItem{}
			q.head++
			if q.head == len(q.items) {
				q.items, q.head = q.items[:0], 0
			}
			q.mu.Unlock()
			return it, true
		}
		ended := q.ended
		q.mu.Unlock()
		if ended {
			return queuedItem{}, false
		}
		select {
		case <-q.notify:
		case <-ctx.Done():
			return queuedItem{}, false
		case <-stop:
			return queuedItem{}, false
		}
	}
}

// runIn starts the goroutine that feeds the client's stream into a typed
// channel. It is the channel's only sender and closes it when it stops.
// stop makes it stop and waits for it.
func runIn[Req any](ctx context.Context, c *Call) (<-chan Req, func()) {
	in := make(chan Req)
	stopCh := make(chan struct{})
	done := make(chan struct{})
	hooks := &c.conn.srv.hooks
	go func() {
		defer close(done)
		defer close(in)
		for {
			it, ok := c.inq.next(ctx, stopCh)
			if !ok {
				return
			}
			// Hooks and validators are user code: a panic in them fails
			// the call, as it would in the handler's goroutine.
			err := func() (err error) {
				defer func() {
					if p := recover(); p != nil {
						err = c.conn.srv.panicked(ctx, c, p)
					}
				}()
				return c.conn.srv.admit(ctx, c, it.raw, it.v, hooks)
			}()
			if err != nil {
				c.fail(err)
				return
			}
			select {
			case in <- *it.v.(*Req):
			case <-ctx.Done():
				return
			case <-stopCh:
				return
			}
		}
	}()
	var once sync.Once
	return in, func() {
		once.Do(func() { close(stopCh) })
		<-done
	}
}

// outBuffer lets a handler run a little ahead of the encoder.
const outBuffer = 16

// runOut runs fn in its own goroutine and sends what it puts on out until
// it returns. It keeps receiving after the call ended, dropping items, so
// fn never blocks forever on a send.
func runOut[Res any](ctx context.Context, c *Call, fn func(ctx context.Context, out chan<- Res) error) error {
	out := make(chan Res, outBuffer)
	done := make(chan struct{})
	var ferr error
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				ferr = c.conn.srv.panicked(ctx, c, p)
			}
		}()
		ferr = fn(ctx, out)
	}()
	send := func(v Res) {
		if err := c.sendItem(ctx, v); err != nil && err != ErrCallEnded && ctx.Err() == nil {
			c.fail(err)
		}
	}
	recv := out
	for {
		select {
		case v, ok := <-recv:
			if !ok {
				recv = nil // fn closed out; wait for it to return
				continue
			}
			send(v)
		case <-done:
			if recv != nil {
				for {
					select {
					case v, ok := <-recv:
						if ok {
							send(v)
							continue
						}
					default:
					}
					break
				}
			}
			return ferr
		}
	}
}

// errQueueFull fails a client stream whose items arrive faster than its
// handler takes them.
func errQueueFull(limit int) *rpc.Error {
	return rpc.Errorf(rpc.CodeTooManyRequests, "stream input overflow: more than %d items waiting for the handler", limit)
}
