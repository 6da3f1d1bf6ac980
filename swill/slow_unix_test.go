//go:build unix

package swill_test

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// A client that reads steadily but slowly (about 20 KB/s, through a
// small receive buffer, as behind a throttling proxy) is not cut off,
// however long the stream: the write timeout measures the peer's
// progress, not the time one write takes. The stream outlasts three
// write timeouts.
func TestSlowReaderIsNotCut(t *testing.T) {
	t.Parallel()
	const writeTimeout = 3 * time.Second
	var sent atomic.Int64
	gone := make(chan error, 1)
	srv := startServer(t, withDemo(firehose(&sent, 100, nil)),
		swill.WithLimits(swill.Limits{WriteTimeout: writeTimeout}),
		swill.WithHooks(swill.Hooks{AfterConnection: func(_ context.Context, _ *swill.Conn, err error) { gone <- err }}))

	dialer := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		// A small receive buffer makes the client's TCP report each few
		// KB read, as over a real network; loopback's 64 KiB segments
		// would otherwise make it announce progress only every several
		// seconds at this rate.
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10) })
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &throttledConn{Conn: nc, chunk: 1000, every: 50 * time.Millisecond}, nil
	}}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}, HTTPClient: client})
	require.NoError(t, err)
	defer conn.CloseNow()
	require.NoError(t, conn.Write(ctx, websocket.MessageBinary, requestFrameMD(t, 1, "firehose", wire.TypeMessage, 1_000_000, nil)))

	var received atomic.Int64
	readErr := make(chan error, 1)
	go func() {
		for {
			_, _, err := conn.Read(context.Background())
			if err != nil {
				readErr <- err
				return
			}
			received.Add(1)
		}
	}()
	start := time.Now()
	var last int64
	for time.Since(start) < 3*writeTimeout+writeTimeout/3 {
		select {
		case err := <-gone:
			t.Fatalf("the server closed the slow reader's connection after %v, %d items received: %v", time.Since(start), received.Load(), err)
		case err := <-readErr:
			t.Fatalf("the slow reader's connection ended after %v, %d items received: %v", time.Since(start), received.Load(), err)
		case <-time.After(writeTimeout):
		}
		n := received.Load()
		assert.Greater(t, n, last, "the slow reader received nothing for a write timeout")
		last = n
	}
	t.Logf("%v: %d items received, %d sent", time.Since(start), received.Load(), sent.Load())
	assert.Less(t, received.Load(), int64(1_000_000), "the stream outlasts the test")
}

// throttledConn reads at most chunk bytes every period.
type throttledConn struct {
	net.Conn
	chunk int
	every time.Duration
	next  time.Time
}

func (c *throttledConn) Read(p []byte) (int, error) {
	if d := time.Until(c.next); d > 0 {
		time.Sleep(d) // real time: the point is a reader that takes its time
	}
	c.next = time.Now().Add(c.every)
	return c.Conn.Read(p[:min(len(p), c.chunk)])
}
