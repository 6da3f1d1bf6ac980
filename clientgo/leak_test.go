package clientgo_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/transport"
	"go.uber.org/goleak"
)

// After Close, nothing the client started is left running: not the
// reader, the writer, the reconnection loop, the keepalive, the state
// notifier nor the goroutines that cancel streams.
func TestNoGoroutineLeftAfterClose(t *testing.T) {
	before := goleak.IgnoreCurrent()
	url, stop := startDemo()
	pings := &pingingDialer{answered: make(chan struct{}, 1)}
	c, err := clientgo.Dial(context.Background(), url,
		clientgo.WithDialer(pings),
		clientgo.WithKeepalive(5*time.Millisecond, time.Second),
		clientgo.WithStateHook(func(clientgo.State, error) {}))
	require.NoError(t, err)

	_, err = clientgo.Call[[2]int, int](context.Background(), c, "add", [2]int{1, 2})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := clientgo.CallServerStream[int, int](ctx, c, "countdown", 100)
	require.NoError(t, err)
	_, err = s.Recv()
	require.NoError(t, err)
	cancel()
	up, err := clientgo.CallClientStream[int, int](context.Background(), c, "sum")
	require.NoError(t, err)
	require.NoError(t, up.Send(1))
	echo, err := clientgo.CallBidiStream[any, any](context.Background(), c, "echo")
	require.NoError(t, err)
	require.NoError(t, echo.Send("x"))
	select {
	case <-pings.answered: // the keepalive has pinged and had its pong
	case <-time.After(wait):
		t.Fatal("no keepalive ping")
	}
	// The stream and bidi calls are still open when the client closes.
	require.NoError(t, c.Close())
	stop()
	goleak.VerifyNone(t, before)
}

// pingingDialer is the default transport, telling when a keepalive ping
// on one of its connections has had its pong.
type pingingDialer struct {
	transport.WebSocket
	answered chan struct{}
}

func (d *pingingDialer) Dial(ctx context.Context, url string, opts *transport.DialOptions) (transport.Conn, error) {
	tc, err := d.WebSocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	return &pingingConn{Conn: tc, answered: d.answered}, nil
}

type pingingConn struct {
	transport.Conn
	answered chan struct{}
}

func (c *pingingConn) Ping(ctx context.Context) error {
	err := c.Conn.Ping(ctx)
	if err == nil {
		select {
		case c.answered <- struct{}{}:
		default:
		}
	}
	return err
}
