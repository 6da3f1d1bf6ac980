package swill_test

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/swill"
)

// holdServer serves "hold", which blocks until release is closed or its
// context ends, and "id".
func holdServer(t *testing.T, opts ...swill.Option) (c *swilltest.Raw, started <-chan int, release chan<- struct{}) {
	t.Helper()
	st, rel := make(chan int, 16), make(chan struct{})
	srv := swilltest.NewServer(opts...)
	require.NoError(t, srv.Register(
		swill.Unary("hold", func(ctx context.Context, n int) (int, error) {
			st <- n
			select {
			case <-rel:
				return n, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}),
		swill.Unary("id", func(ctx context.Context, n int) (int, error) { return n, nil }),
	))
	return swilltest.Dial(t, swilltest.Start(t, srv).URL), st, rel
}

// A unary handler that blocks does not hold up the calls after it on its
// connection: past the inline budget, the connection is read by another
// goroutine, on every transport that runs calls inline.
func TestInlineCallThatBlocksReleasesTheReader(t *testing.T) {
	t.Parallel()
	c, started, release := holdServer(t)
	c.Send(requestFrame(t, 1, "hold", wire.TypeMessage, 1))
	<-started
	for i := range 20 {
		c.Send(requestFrame(t, int64(10+i), "id", wire.TypeMessage, i))
	}
	for i := range 20 {
		assert.Equal(t, resultFrame(t, int64(10+i), wire.TypeMessage, i), hex.EncodeToString(c.Recv(5*time.Second)),
			"call %d answered while the first one blocks", i)
	}

	// A second blocking call, read by the new reader, releases it in turn.
	c.Send(requestFrame(t, 2, "hold", wire.TypeMessage, 2))
	<-started
	c.Send(requestFrame(t, 3, "id", wire.TypeMessage, 3))
	assert.Equal(t, resultFrame(t, 3, wire.TypeMessage, 3), hex.EncodeToString(c.Recv(5*time.Second)))

	close(release)
	got := map[string]bool{hex.EncodeToString(c.Recv(5 * time.Second)): true, hex.EncodeToString(c.Recv(5 * time.Second)): true}
	assert.Equal(t, map[string]bool{
		resultFrame(t, 1, wire.TypeMessage, 1): true,
		resultFrame(t, 2, wire.TypeMessage, 2): true,
	}, got, "the released calls answer when they return")
}

// A CANCEL for a blocking call reaches its handler once the reader is
// released, and the connection goes on.
func TestInlineCallCancelled(t *testing.T) {
	t.Parallel()
	c, started, _ := holdServer(t)
	c.Send(requestFrame(t, 1, "hold", wire.TypeMessage, 1))
	<-started
	c.Send(requestFrame(t, 1, "hold", wire.TypeCancel, nil))
	c.Send(requestFrame(t, 2, "id", wire.TypeMessage, 2))
	assert.Equal(t, resultFrame(t, 2, wire.TypeMessage, 2), hex.EncodeToString(c.Recv(5*time.Second)))
	c.Quiet(100 * time.Millisecond) // nothing for the cancelled call
}

// Many blocking calls on one connection all run at once: each releases
// the reader that read it.
func TestInlineCallsBlockTogether(t *testing.T) {
	t.Parallel()
	c, started, release := holdServer(t)
	const n = 8
	for i := range n {
		c.Send(requestFrame(t, int64(i+1), "hold", wire.TypeMessage, i))
	}
	for range n {
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Fatal("the blocking calls do not all run at once")
		}
	}
	close(release)
	for range n {
		c.Recv(5 * time.Second)
	}
}

// With a budget longer than the call, the call holds its connection's
// reader: the call after it is read only once it returns. This is what
// the budget trades: a few microseconds per call against head-of-line
// waits bounded by the budget.
func TestInlineBudgetHoldsTheReader(t *testing.T) {
	t.Parallel()
	c, started, release := holdServer(t, swill.WithInlineBudget(time.Hour))
	c.Send(requestFrame(t, 1, "hold", wire.TypeMessage, 1))
	<-started
	c.Send(requestFrame(t, 2, "id", wire.TypeMessage, 2))
	c.Quiet(100 * time.Millisecond)
	close(release)
	assert.Equal(t, resultFrame(t, 1, wire.TypeMessage, 1), hex.EncodeToString(c.Recv(5*time.Second)))
	assert.Equal(t, resultFrame(t, 2, wire.TypeMessage, 2), hex.EncodeToString(c.Recv(5*time.Second)))
}

// The watchdog runs while calls run inline, and ends after a quiet
// spell; the next inline call starts it again.
func TestInlineWatchdogEndsWhenQuiet(t *testing.T) {
	t.Parallel()
	srv := swilltest.NewServer(swill.WithInlineBudget(time.Millisecond))
	watched := make(chan bool, 1)
	require.NoError(t, srv.Register(swill.Unary("watched", func(ctx context.Context, n int) (int, error) {
		watched <- swill.WatchdogRunning(srv)
		return n, nil
	})))
	c := swilltest.Dial(t, swilltest.Start(t, srv).URL)
	for round := range 2 {
		c.Send(requestFrame(t, int64(round+1), "watched", wire.TypeMessage, round))
		c.Recv(5 * time.Second)
		assert.True(t, <-watched, "round %d: the watchdog runs during an inline call", round)
		require.Eventually(t, func() bool { return !swill.WatchdogRunning(srv) }, 5*time.Second, 10*time.Millisecond,
			"round %d: the watchdog ends once no call runs inline", round)
	}
}
