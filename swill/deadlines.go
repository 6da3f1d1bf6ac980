package swill

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/transport"
)

// Deadlines: when a connection last did something (for IdleTimeout and
// keepalive), the deadline a client gives a call (rpc.TimeoutKey), and
// the keepalive ping. The write deadline is the transport's (see
// Limits.WriteTimeout), the inline budget the watchdog's (inline.go).

// activity records when a connection last received a frame or ended a
// call, in unix nanoseconds.
type activity struct {
	lastRx  atomic.Int64
	lastEnd atomic.Int64
}

// received records a frame received now.
func (a *activity) received() { a.lastRx.Store(time.Now().UnixNano()) }

// callEnded records the end of a call now.
func (a *activity) callEnded() { a.lastEnd.Store(time.Now().UnixNano()) }

// last is when the connection last received a frame or ended a call: a
// connection whose call ran for an hour without a frame from the client
// is not idle the moment that call ends.
func (a *activity) last() time.Time {
	return time.Unix(0, max(a.lastRx.Load(), a.lastEnd.Load()))
}

// callDeadline returns the context of a call whose request metadata is
// md: with the deadline the client asked for, if any. It has no parent:
// the connection cancels its calls itself.
func callDeadline(md rpc.Metadata) (context.Context, context.CancelFunc) {
	if ms, ok := md.Millis(rpc.TimeoutKey); ok {
		return context.WithTimeout(context.Background(), time.Duration(ms)*time.Millisecond)
	}
	return context.WithCancel(context.Background())
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
