package clientgo_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// A rolling restart as a load balancer does it: the client's URL leads
// to server A; new connections go to B while A shuts down with calls in
// flight. Each call ends with its result or with A's 503 and a retry
// hint, the client sees the 1001, reconnects and lands on B, where the
// calls tried again succeed.
func TestShutdownMovesToAnotherServer(t *testing.T) {
	var running atomic.Int64
	newServer := func(name string) *swill.Server {
		srv := swill.NewServer()
		require.NoError(t, demosvc.Register(srv))
		require.NoError(t, srv.Register(
			swill.Unary("whoami", func(context.Context, any) (string, error) { return name, nil }),
			swill.Unary("nap", func(ctx context.Context, ms int) (int, error) {
				running.Add(1)
				select {
				case <-time.After(time.Duration(ms) * time.Millisecond):
					return ms, nil
				case <-ctx.Done():
					return 0, ctx.Err()
				}
			}),
		))
		return srv
	}
	a, b := newServer("a"), newServer("b")
	var current atomic.Pointer[swill.Server]
	current.Store(a)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		current.Load().ServeHTTP(w, r)
	}))
	defer front.Close()
	defer b.Shutdown(context.Background())
	url := "ws" + strings.TrimPrefix(front.URL, "http")

	states := newStateLog()
	c := dial(t, url, clientgo.WithStateHook(states.hook),
		clientgo.WithReconnect(clientgo.ReconnectPolicy{InitialDelay: 10 * time.Millisecond}))
	states.expect(t, clientgo.StateConnected)
	who, err := clientgo.Call[any, string](testCtx(t), c, "whoami", nil)
	require.NoError(t, err)
	require.Equal(t, "a", who)

	// 200 calls in flight: half end within the grace period, half do not.
	const calls = 200
	var wg sync.WaitGroup
	errs := make([]error, calls)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ms := 50
			if i%2 == 1 {
				ms = 60_000
			}
			_, errs[i] = clientgo.Call[int, int](testCtx(t), c, "nap", ms)
		}()
	}
	require.Eventually(t, func() bool { return running.Load() == calls }, wait, time.Millisecond, "the calls run on A")

	current.Store(b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	assert.ErrorIs(t, a.Shutdown(ctx), context.DeadlineExceeded)
	took := time.Since(start)
	wg.Wait()
	retried := 0
	for i, err := range errs {
		if err == nil {
			continue
		}
		require.Equal(t, rpc.CodeUnavailable, rpc.CodeOf(err), "call %d: %v", i, err)
		d, ok := rpc.RetryAfter(err)
		require.True(t, ok, "call %d: no retry hint in %v", i, err)
		assert.Greater(t, d, time.Duration(0))
		var e *rpc.Error
		require.True(t, errors.As(err, &e))
		assert.True(t, rpc.IsWireError(err))
		retried++
	}
	assert.Equal(t, calls/2, retried, "the calls that outlived the deadline, and only they")
	states.expect(t, clientgo.StateConnecting)
	states.expect(t, clientgo.StateConnected)

	who, err = clientgo.Call[any, string](testCtx(t), c, "whoami", nil)
	require.NoError(t, err)
	assert.Equal(t, "b", who, "the client reconnected to the other server")
	_, err = clientgo.Call[int, any](testCtx(t), c, "nap", 1)
	assert.NoError(t, err, "a call tried again succeeds on the new server")
	t.Logf("%d calls in flight: %d completed, %d got 503 with a retry hint; A's Shutdown took %v", calls, calls-retried, retried, took.Round(time.Millisecond))
}
