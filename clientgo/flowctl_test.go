package clientgo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/internal/wire"
)

// sendItems has the fake server send items 0 ... n-1 of stream seq, as
// fast as it can, then END_OF_STREAM: the client's reader always has the
// next frame at hand, so it is never slower than the consumer.
func (s *fakeServer) sendItems(seq int64, n int) {
	b := wire.GetBuffer()
	defer wire.PutBuffer(b)
	enc := wire.GetEncoder()
	defer wire.PutEncoder(enc)
	for i := range n {
		b.Reset()
		if err := enc.Response(b, seq, wire.TypeMessage, i, nil, nil); err != nil {
			s.t.Error(err)
			return
		}
		if err := s.tc.WriteMessage(b.B); err != nil {
			return // the client closed the connection
		}
		if i%1000 == 999 {
			s.tc.Flush()
		}
	}
	b.Reset()
	enc.Response(b, seq, wire.TypeEndOfStream, nil, nil, nil)
	s.tc.WriteMessage(b.B)
	s.tc.Flush()
}

// A consumer that keeps taking items is never cut off, even though it is
// slower than the reader, so that its buffer is full all along and the
// reader waits for it again and again, and though it pauses now and then
// for less than the timeout: for much longer than the timeout in all.
func TestBusyConsumerNeverCutOff(t *testing.T) {
	// The pauses stay well below the timeout, so that a scheduling
	// hiccup under the race detector on a loaded machine does not look
	// like a stalled consumer.
	const timeout = 2 * time.Second
	c, s := startFake(t, WithSlowConsumerTimeout(timeout)) // the default buffer
	st, err := CallServerStream[int, int](context.Background(), c, "items", 0)
	require.NoError(t, err)
	f := s.recv()
	const n = 30_000
	go s.sendItems(f.Seq, n)

	want := 0
	for v, err := range st.All() {
		require.NoError(t, err, "after %d items", want)
		require.Equal(t, want, v)
		want++
		// 20µs of work per item: 0.6s in all, a reader's wait each time.
		for start := time.Now(); time.Since(start) < 20*time.Microsecond; {
		}
		if want%10_000 == 0 {
			time.Sleep(timeout / 5) // real time: a pause the slow-consumer timeout must tolerate
		}
	}
	assert.Equal(t, n, want)
	assert.NoError(t, st.Err())
	// The buffer never emptied while the stream lasted; its array stayed
	// the size of the bound all the same.
	st.r.cl.mu.Lock()
	assert.LessOrEqual(t, cap(st.r.cl.items), 2*DefaultStreamItems)
	st.r.cl.mu.Unlock()
}

// A consumer that stops taking items gets ErrSlowConsumer once it has
// taken nothing for the timeout, not before; the stream is cancelled on
// the server, and the other calls on the connection go on.
func TestStalledConsumerCutOff(t *testing.T) {
	const timeout = 500 * time.Millisecond // above a scheduling hiccup of a loaded machine between two Recvs
	c, s := startFake(t, WithSlowConsumerTimeout(timeout), WithStreamBuffer(16, 0))
	st, err := CallServerStream[int, int](context.Background(), c, "items", 0)
	require.NoError(t, err)
	f := s.recv()
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		s.sendItems(f.Seq, 100_000)
	}()
	var stopped time.Time
	for i := range 1000 {
		if i == 999 {
			// Before the last item is taken: the timeout counts from then.
			stopped = time.Now()
		}
		v, err := st.Recv()
		require.NoError(t, err)
		require.Equal(t, i, v)
	}

	// The consumer stops. A unary call's result waits behind the stream's
	// items until the stream is cancelled.
	res := make(chan error, 1)
	go func() {
		v, err := Call[int, int](context.Background(), c, "unary", 1)
		if err == nil && v != 2 {
			err = fmt.Errorf("unary: got %d", v)
		}
		res <- err
	}()
	req := s.recv()
	require.Equal(t, "unary", req.RPC)
	<-sent // one writer at a time
	s.respond(req.Seq, wire.TypeMessage, 2, nil, nil)

	cancel := s.recv()
	assert.Equal(t, f.Seq, cancel.Seq)
	assert.Equal(t, wire.TypeCancel, cancel.Type)
	assert.GreaterOrEqual(t, time.Since(stopped), timeout, "cancelled before the consumer had taken nothing for the timeout")
	select {
	case err := <-res:
		require.NoError(t, err)
	case <-time.After(wait):
		t.Fatal("the unary call never returned")
	}
	_, err = st.Recv()
	assert.ErrorIs(t, err, ErrSlowConsumer)
}
