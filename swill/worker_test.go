package swill_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/swill"
)

// workers counts the goroutines that run calls, busy or idle.
func workers() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Count(buf[:n], []byte("swill.(*workerPool).work("))
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestWorkersEndWhenIdle runs concurrent calls on pooled goroutines,
// reuses them for later calls, and lets them end once idle.
func TestWorkersEndWhenIdle(t *testing.T) {
	const concurrent = 8
	srv := swilltest.NewServer(swill.WithWorkerIdleTime(300*time.Millisecond), swill.WithInlineBudget(0)) // every call on a worker
	var running sync.WaitGroup
	release := make(chan struct{})
	require.NoError(t, srv.Register(swill.Unary("hold", func(ctx context.Context, n int) (int, error) {
		running.Done()
		<-release
		return n, nil
	}), swill.Unary("id", func(ctx context.Context, n int) (int, error) { return n, nil })))
	c := swilltest.Dial(t, swilltest.Start(t, srv).URL)

	running.Add(concurrent)
	for i := range concurrent {
		c.Send(requestFrame(t, int64(i+1), "hold", wire.TypeMessage, i))
	}
	running.Wait() // every call runs at once, each on its own worker
	assert.Equal(t, concurrent, workers())
	close(release)
	for range concurrent {
		c.Recv(5 * time.Second)
	}

	// Sequential calls reuse the idle workers.
	for i := range 20 {
		c.Send(requestFrame(t, int64(100+i), "id", wire.TypeMessage, i))
		assert.Equal(t, resultFrame(t, int64(100+i), wire.TypeMessage, i), hex.EncodeToString(c.Recv(5*time.Second)))
	}
	n := workers()
	assert.Positive(t, n, "no idle worker kept")
	assert.LessOrEqual(t, n, concurrent)

	require.Eventually(t, func() bool { return workers() == 0 }, 5*time.Second, 20*time.Millisecond,
		"idle workers outlive their idle time")
}
