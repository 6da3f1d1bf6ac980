package clientgo_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/swill"
)

// A program that cancels a call and closes the client at once (a command
// interrupted with Ctrl-C) still gets its CANCEL to the server.
func TestCloseRightAfterCancelSendsCancel(t *testing.T) {
	t.Parallel()
	outcomes := make(chan swill.Outcome, 1)
	started := make(chan struct{}, 1)
	srv := swilltest.StartDemo(t, swill.WithHooks(swill.Hooks{
		BeforeRequest: func(ctx context.Context, call *swill.Call) error {
			started <- struct{}{}
			return nil
		},
		AfterRequest: func(ctx context.Context, call *swill.Call, out swill.Outcome) {
			outcomes <- out
		},
	}))
	c, err := clientgo.Dial(testCtx(t), srv.URL)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := clientgo.Call[int, int](ctx, c, "sleep", 60000)
		errc <- err
	}()
	select {
	case <-started:
	case <-time.After(wait):
		t.Fatal("the call never reached the server")
	}
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
	require.NoError(t, c.Close())
	select {
	case out := <-outcomes:
		assert.True(t, out.Canceled, "the server saw CANCEL, not just the connection closing")
	case <-time.After(wait):
		t.Fatal("the call never ended on the server")
	}
}
