package swill_test

import (
	"context"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/epoll"
	"github.com/swillorg/swill-go/transport/gobwasws"
)

// On transport/epoll, whose workers serve many connections, a client that
// stops reading its replies never holds up another client: replies are
// written from a worker only as far as the socket takes them at once.
func TestInlineOnEpollNeverWaitsForAPeer(t *testing.T) {
	if env := os.Getenv(swilltest.TransportEnv); env != "" {
		t.Skipf("%s=%s: the test sets its own transport, and runs in the default pass", swilltest.TransportEnv, env)
	}
	t.Parallel()
	srv := swill.NewServer(
		swill.WithTransport(&epoll.Acceptor{Workers: 1}),
		swill.WithInlineBudget(time.Hour), // no release hides a worker that waits
		swill.WithLimits(swill.Limits{WriteTimeout: time.Minute, MaxConcurrentCalls: 4096, MaxQueueBytes: 64 << 20}),
	)
	big := make([]byte, 64<<10)
	var served atomic.Int32
	require.NoError(t, srv.Register(
		swill.Unary("big", func(ctx context.Context, n int) ([]byte, error) { served.Add(1); return big, nil }),
		swill.Unary("id", func(ctx context.Context, n int) (int, error) { return n, nil }),
	))
	s := swilltest.Start(t, srv)

	// The stalled client sends requests for 16 MiB of replies and reads
	// none of them.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Its small receive buffer makes the server's socket full soon.
	dialer := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10) })
	}}
	tc, err := gobwasws.Transport{}.Dial(ctx, s.URL, &transport.DialOptions{
		Subprotocols: []string{"swill.v1"},
		HTTPClient:   &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}},
	})
	require.NoError(t, err)
	stop := make(chan struct{})
	defer func() {
		close(stop)
		tc.Close(transport.StatusNormalClosure, "")
	}()
	tc.Start(stuckHandler(stop))
	// In one write: the server reads the requests at once, and its
	// replies outgrow the socket in one go.
	for i := range 256 {
		require.NoError(t, tc.WriteMessage(requestFrame(t, int64(i+1), "big", wire.TypeMessage, i)))
	}
	require.NoError(t, tc.Flush())
	require.Eventually(t, func() bool { return served.Load() == 256 }, 10*time.Second, time.Millisecond)

	// Another client on the same worker is served all along.
	c := swilltest.Dial(t, s.URL)
	for i := range 20 {
		c.Send(requestFrame(t, int64(i+1), "id", wire.TypeMessage, i))
		assert.Equal(t, resultFrame(t, int64(i+1), wire.TypeMessage, i), hex.EncodeToString(c.Recv(5*time.Second)))
	}
}

// stuckHandler stops reading its connection at the first message, until
// stop is closed.
type stuckHandler chan struct{}

func (h stuckHandler) HandleMessage(transport.MessageType, []byte) { <-h }
func (h stuckHandler) HandleClose(error)                           {}

// On transport/epoll, a worker that finds several connections ready and
// is released while serving the first leaves the others to be served at
// once, not after the blocked call returns.
func TestInlineReleasedWorkerLeavesNoConnectionBehind(t *testing.T) {
	if env := os.Getenv(swilltest.TransportEnv); env != "" {
		t.Skipf("%s=%s: the test sets its own transport, and runs in the default pass", swilltest.TransportEnv, env)
	}
	t.Parallel()
	srv := swill.NewServer(swill.WithTransport(&epoll.Acceptor{Workers: 1}))
	started, release := make(chan int, 4), make(chan struct{})
	require.NoError(t, srv.Register(
		swill.Unary("hold", func(ctx context.Context, n int) (int, error) {
			started <- n
			<-release
			return n, nil
		}),
		swill.Unary("id", func(ctx context.Context, n int) (int, error) { return n, nil }),
	))
	s := swilltest.Start(t, srv)
	defer close(release)
	gate, a, b := swilltest.Dial(t, s.URL), swilltest.Dial(t, s.URL), swilltest.Dial(t, s.URL)

	// While the only worker is held, a's and b's requests arrive: the
	// worker that takes over after the release finds both in one wait,
	// a's first.
	gate.Send(requestFrame(t, 1, "hold", wire.TypeMessage, 1))
	require.Equal(t, 1, <-started)
	a.Send(requestFrame(t, 1, "hold", wire.TypeMessage, 2))
	b.Send(requestFrame(t, 1, "id", wire.TypeMessage, 3))
	assert.Equal(t, resultFrame(t, 1, wire.TypeMessage, 3), hex.EncodeToString(b.Recv(5*time.Second)),
		"b is answered while a's call blocks")
}
