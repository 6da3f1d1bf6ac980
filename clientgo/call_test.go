package clientgo_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/rpc"
)

func TestMetadataEveryKind(t *testing.T) {
	srv, _ := startServer(t)
	c := dial(t, srv.URL)
	md := rpc.Metadata{"token": "abc"}

	t.Run("unary", func(t *testing.T) {
		var header, trailer rpc.Metadata
		got, err := clientgo.Call[int, int](context.Background(), c, "md_unary", 5,
			clientgo.WithMetadata(md), clientgo.CaptureHeader(&header), clientgo.CaptureTrailer(&trailer))
		require.NoError(t, err)
		assert.Equal(t, 5, got)
		assert.Equal(t, rpc.Metadata{"kind": "unary"}, header)
		assert.Equal(t, rpc.Metadata{"request": map[string]any{"token": "abc"}}, trailer)
	})

	t.Run("server stream", func(t *testing.T) {
		var header, trailer rpc.Metadata
		s, err := clientgo.CallServerStream[int, int](context.Background(), c, "md_server", 2,
			clientgo.WithMetadata(md), clientgo.CaptureHeader(&header), clientgo.CaptureTrailer(&trailer))
		require.NoError(t, err)
		var got []int
		for v, err := range s.All() {
			require.NoError(t, err)
			got = append(got, v)
		}
		assert.Equal(t, []int{0, 1}, got)
		assert.Equal(t, rpc.Metadata{"kind": "server_stream"}, s.Header())
		assert.Equal(t, rpc.Metadata{"request": map[string]any{"token": "abc"}}, s.Trailer())
		assert.Equal(t, s.Header(), header)
		assert.Equal(t, s.Trailer(), trailer)
	})

	t.Run("client stream", func(t *testing.T) {
		var header, trailer rpc.Metadata
		s, err := clientgo.CallClientStream[int, int](context.Background(), c, "md_client",
			clientgo.WithMetadata(md), clientgo.CaptureHeader(&header), clientgo.CaptureTrailer(&trailer))
		require.NoError(t, err)
		require.NoError(t, s.Send(1))
		require.NoError(t, s.Send(2))
		got, err := s.CloseAndReceive()
		require.NoError(t, err)
		assert.Equal(t, 3, got)
		assert.Equal(t, rpc.Metadata{"kind": "client_stream"}, header)
		assert.Equal(t, rpc.Metadata{"request": map[string]any{"token": "abc"}}, trailer)
		assert.Equal(t, header, s.Header())
		assert.Equal(t, trailer, s.Trailer())
	})

	t.Run("bidi", func(t *testing.T) {
		var header, trailer rpc.Metadata
		s, err := clientgo.CallBidiStream[int, int](context.Background(), c, "md_bidi",
			clientgo.WithMetadata(md), clientgo.CaptureHeader(&header), clientgo.CaptureTrailer(&trailer))
		require.NoError(t, err)
		require.NoError(t, s.Send(4))
		v, err := s.Recv()
		require.NoError(t, err)
		assert.Equal(t, 40, v)
		assert.Equal(t, rpc.Metadata{"kind": "bidi_stream"}, s.Header())
		require.NoError(t, s.CloseSend())
		_, err = s.Recv()
		require.Equal(t, io.EOF, err)
		assert.Equal(t, rpc.Metadata{"request": map[string]any{"token": "abc"}}, s.Trailer())
		assert.Equal(t, rpc.Metadata{"kind": "bidi_stream"}, header)
		assert.Equal(t, s.Trailer(), trailer)
	})
}

func TestCancel(t *testing.T) {
	srv, p := startServer(t)
	c := dial(t, srv.URL)

	// returnsAtOnce checks that err is the context's error and came
	// quickly after the cancellation.
	returnsAtOnce := func(t *testing.T, cancelled time.Time, err error) {
		t.Helper()
		assert.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(cancelled), time.Second, "the call returns at once")
	}

	t.Run("unary", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		var at time.Time
		go func() {
			_, err := clientgo.Call[any, int](ctx, c, "block", nil)
			errc <- err
		}()
		p.waitStarted(t, "block")
		at = time.Now()
		cancel()
		select {
		case err := <-errc:
			returnsAtOnce(t, at, err)
		case <-time.After(wait):
			t.Fatal("Call did not return after cancel")
		}
		assert.ErrorIs(t, p.waitEnded(t), context.Canceled, "the handler's context was cancelled")
	})

	t.Run("server stream", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s, err := clientgo.CallServerStream[any, int](ctx, c, "ticker", nil)
		require.NoError(t, err)
		p.waitStarted(t, "ticker")
		_, err = s.Recv()
		require.NoError(t, err)
		at := time.Now()
		cancel()
		for err == nil {
			_, err = s.Recv()
		}
		returnsAtOnce(t, at, err)
		assert.ErrorIs(t, s.Err(), context.Canceled)
		assert.ErrorIs(t, p.waitEnded(t), context.Canceled)
	})

	t.Run("server stream Close", func(t *testing.T) {
		s, err := clientgo.CallServerStream[any, int](context.Background(), c, "ticker", nil)
		require.NoError(t, err)
		p.waitStarted(t, "ticker")
		require.NoError(t, s.Close())
		_, err = s.Recv()
		assert.ErrorIs(t, err, clientgo.ErrStreamClosed)
		assert.NotErrorIs(t, err, io.EOF)
		_, err = s.Recv()
		assert.ErrorIs(t, err, clientgo.ErrStreamClosed, "at every later call")
		assert.ErrorIs(t, s.Err(), clientgo.ErrStreamClosed)
		require.NoError(t, s.Close(), "twice")
		assert.ErrorIs(t, p.waitEnded(t), context.Canceled)
	})

	t.Run("server stream Close after the end", func(t *testing.T) {
		s, err := clientgo.CallServerStream[int, int](context.Background(), c, "countdown", 2)
		require.NoError(t, err)
		for range 2 {
			_, err = s.Recv()
			require.NoError(t, err)
		}
		_, err = s.Recv()
		require.Equal(t, io.EOF, err)
		require.NoError(t, s.Close())
		_, err = s.Recv()
		assert.Equal(t, io.EOF, err, "a stream that ended is left as it is")
		assert.NoError(t, s.Err())
	})

	t.Run("client stream Close", func(t *testing.T) {
		s, err := clientgo.CallClientStream[int, int](context.Background(), c, "hold")
		require.NoError(t, err)
		p.waitStarted(t, "hold")
		require.NoError(t, s.Send(1))
		require.NoError(t, s.Close())
		assert.ErrorIs(t, s.Send(2), clientgo.ErrStreamClosed)
		_, err = s.CloseAndReceive()
		assert.ErrorIs(t, err, clientgo.ErrStreamClosed)
		assert.NotErrorIs(t, err, io.EOF)
		assert.ErrorIs(t, p.waitEnded(t), context.Canceled)
	})

	t.Run("break out of All", func(t *testing.T) {
		s, err := clientgo.CallServerStream[any, int](context.Background(), c, "ticker", nil)
		require.NoError(t, err)
		p.waitStarted(t, "ticker")
		for v, err := range s.All() {
			require.NoError(t, err)
			if v == 3 {
				break
			}
		}
		assert.ErrorIs(t, p.waitEnded(t), context.Canceled, "leaving the loop cancels the stream")
	})

	t.Run("client stream", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s, err := clientgo.CallClientStream[int, int](ctx, c, "hold")
		require.NoError(t, err)
		p.waitStarted(t, "hold")
		require.NoError(t, s.Send(1))
		done := make(chan error, 1)
		go func() {
			_, err := s.CloseAndReceive()
			done <- err
		}()
		waitBlocked(t, "clientgo.(*ClientStream[...]).CloseAndReceive") // it waits for the result
		at := time.Now()
		cancel()
		select {
		case err := <-done:
			returnsAtOnce(t, at, err)
		case <-time.After(wait):
			t.Fatal("CloseAndReceive did not return after cancel")
		}
		assert.ErrorIs(t, p.waitEnded(t), context.Canceled)
		assert.ErrorIs(t, s.Send(2), context.Canceled)
	})

	t.Run("client stream before end", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s, err := clientgo.CallClientStream[int, int](ctx, c, "collect")
		require.NoError(t, err)
		p.waitStarted(t, "collect")
		require.NoError(t, s.Send(1))
		cancel()
		assert.ErrorIs(t, p.waitEnded(t), context.Canceled)
		_, err = s.CloseAndReceive()
		assert.ErrorIs(t, err, context.Canceled)
	})

	t.Run("bidi", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s, err := clientgo.CallBidiStream[string, string](ctx, c, "chat")
		require.NoError(t, err)
		p.waitStarted(t, "chat")
		require.NoError(t, s.Send("hi"))
		got, err := s.Recv()
		require.NoError(t, err)
		assert.Equal(t, "re: hi", got)
		errc := make(chan error, 1)
		go func() {
			_, err := s.Recv()
			errc <- err
		}()
		at := time.Now()
		cancel()
		select {
		case err := <-errc:
			returnsAtOnce(t, at, err)
		case <-time.After(wait):
			t.Fatal("Recv did not return after cancel")
		}
		assert.ErrorIs(t, p.waitEnded(t), context.Canceled)
		assert.ErrorIs(t, s.Send("more"), context.Canceled)
	})

	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := clientgo.Call[[2]int, int](ctx, c, "add", [2]int{1, 2})
		assert.ErrorIs(t, err, context.Canceled)
		_, err = clientgo.CallServerStream[int, int](ctx, c, "countdown", 1)
		assert.ErrorIs(t, err, context.Canceled)
	})

	// The connection is still fine for other calls.
	sum, err := clientgo.Call[[2]int, int](context.Background(), c, "add", [2]int{2, 3})
	require.NoError(t, err)
	assert.Equal(t, 5, sum)
}

func TestDeadline(t *testing.T) {
	srv, p := startServer(t)
	c := dial(t, srv.URL)

	t.Run("propagated", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		d, err := clientgo.Call[any, Deadline](ctx, c, "deadline", nil)
		require.NoError(t, err)
		assert.True(t, d.Has, "the handler's context has a deadline")
		assert.InDelta(t, 3000, d.LeftMS, 1000, "the handler sees about the client's deadline")
		assert.LessOrEqual(t, d.LeftMS, int64(3000))
	})

	t.Run("none", func(t *testing.T) {
		d, err := clientgo.Call[any, Deadline](context.Background(), c, "deadline", nil)
		require.NoError(t, err)
		assert.False(t, d.Has)
	})

	t.Run("metadata", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		md, err := clientgo.Call[any, rpc.Metadata](ctx, c, "metadata", nil)
		require.NoError(t, err)
		ms, ok := md[rpc.TimeoutKey]
		require.True(t, ok)
		assert.InDelta(t, 1500, toInt(t, ms), 500)
	})

	t.Run("expires", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := clientgo.Call[any, int](ctx, c, "block", nil)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), time.Second)
		p.waitStarted(t, "block")
		assert.Error(t, p.waitEnded(t), "the handler's context ended")
	})

	t.Run("stream", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		s, err := clientgo.CallServerStream[any, int](ctx, c, "ticker", nil)
		require.NoError(t, err)
		p.waitStarted(t, "ticker")
		for err == nil {
			_, err = s.Recv()
		}
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Error(t, p.waitEnded(t))
	})
}

func toInt(t *testing.T, v any) int64 {
	t.Helper()
	switch n := v.(type) {
	case int8:
		return int64(n)
	case int16:
		return int64(n)
	case int32:
		return int64(n)
	case int64:
		return n
	case uint8:
		return int64(n)
	case uint16:
		return int64(n)
	case uint32:
		return int64(n)
	case uint64:
		return int64(n)
	}
	t.Fatalf("not an integer: %T", v)
	return 0
}

func TestConcurrentCalls(t *testing.T) {
	srv, _ := startServer(t)
	c := dial(t, srv.URL)
	const goroutines, perGoroutine = 50, 20 // 1,000 calls
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perGoroutine)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perGoroutine; i++ {
				a, b := g*1000, i
				sum, err := clientgo.Call[[2]int, int](context.Background(), c, "add", [2]int{a, b})
				if err != nil {
					errs <- err
					continue
				}
				if sum != a+b {
					errs <- fmt.Errorf("add(%d, %d) = %d", a, b, sum)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestConcurrentStreams(t *testing.T) {
	srv, _ := startServer(t)
	c := dial(t, srv.URL)
	var wg sync.WaitGroup
	for g := 0; g < 20; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := g + 1
			s, err := clientgo.CallServerStream[int, int](context.Background(), c, "countdown", n)
			if !assert.NoError(t, err) {
				return
			}
			want := n
			for v, err := range s.All() {
				if !assert.NoError(t, err) {
					return
				}
				assert.Equal(t, want, v)
				want--
			}
			assert.Equal(t, 0, want)
			up, err := clientgo.CallClientStream[int, int](context.Background(), c, "sum")
			if !assert.NoError(t, err) {
				return
			}
			for i := 1; i <= n; i++ {
				assert.NoError(t, up.Send(i))
			}
			total, err := up.CloseAndReceive()
			assert.NoError(t, err)
			assert.Equal(t, n*(n+1)/2, total)
		}()
	}
	wg.Wait()
}

func TestSlowConsumer(t *testing.T) {
	srv, p := startServer(t)
	c := dial(t, srv.URL, clientgo.WithStreamBuffer(8, 0), clientgo.WithSlowConsumerTimeout(100*time.Millisecond))
	s, err := clientgo.CallServerStream[int, int](context.Background(), c, "flood", 1_000_000)
	require.NoError(t, err)
	p.waitStarted(t, "flood")
	// A consumer that takes nothing: the buffer fills, the connection
	// waits for it a while, then the client cancels the stream instead of
	// growing or stalling for good.
	assert.ErrorIs(t, p.waitEnded(t), context.Canceled, "the server's handler was cancelled")
	received := 0
	for {
		_, err = s.Recv()
		if err != nil {
			break
		}
		received++
	}
	assert.ErrorIs(t, err, clientgo.ErrSlowConsumer)
	assert.Zero(t, received, "the buffer is dropped with the stream")
	assert.False(t, rpc.IsWireError(err))

	// The connection and other calls are unaffected.
	sum, err := clientgo.Call[[2]int, int](context.Background(), c, "add", [2]int{1, 1})
	require.NoError(t, err)
	assert.Equal(t, 2, sum)
}

func TestFastStreamPacedByConsumer(t *testing.T) {
	srv, p := startServer(t)
	// A tiny buffer: the server is held to the consumer's pace through
	// TCP, and every item arrives.
	c := dial(t, srv.URL, clientgo.WithStreamBuffer(8, 0))
	const n = 20_000
	s, err := clientgo.CallServerStream[int, int](context.Background(), c, "flood", n)
	require.NoError(t, err)
	p.waitStarted(t, "flood")
	want := 0
	for v, err := range s.All() {
		require.NoError(t, err)
		require.Equal(t, want, v)
		want++
		if want%5_000 == 0 {
			time.Sleep(20 * time.Millisecond) // real time: a consumer that stalls now and then, holding the server back
		}
	}
	assert.Equal(t, n, want)
	assert.NoError(t, p.waitEnded(t), "the handler sent everything")
}

func TestStalledStreamHoldsOthersBriefly(t *testing.T) {
	srv, p := startServer(t)
	const timeout = 300 * time.Millisecond
	c := dial(t, srv.URL, clientgo.WithStreamBuffer(4, 0), clientgo.WithSlowConsumerTimeout(timeout))
	s, err := clientgo.CallServerStream[int, int](context.Background(), c, "flood", 1_000_000)
	require.NoError(t, err)
	p.waitStarted(t, "flood")
	// Nobody receives from s. A unary call behind it on the connection
	// waits for at most about the timeout.
	start := time.Now()
	sum, err := clientgo.Call[[2]int, int](testCtx(t), c, "add", [2]int{2, 2})
	require.NoError(t, err)
	assert.Equal(t, 4, sum)
	assert.Less(t, time.Since(start), timeout+time.Second)
	assert.ErrorIs(t, p.waitEnded(t), context.Canceled)
	_, err = s.Recv()
	assert.ErrorIs(t, err, clientgo.ErrSlowConsumer)
}

func TestClosedClient(t *testing.T) {
	srv, p := startServer(t)
	c := dial(t, srv.URL)
	s, err := clientgo.CallServerStream[any, int](context.Background(), c, "ticker", nil)
	require.NoError(t, err)
	p.waitStarted(t, "ticker")
	errc := make(chan error, 1)
	go func() {
		_, err := clientgo.Call[any, int](context.Background(), c, "block", nil)
		errc <- err
	}()
	p.waitStarted(t, "block")

	require.NoError(t, c.Close())
	assert.Equal(t, clientgo.StateClosed, c.State())
	assert.ErrorIs(t, <-errc, clientgo.ErrClosed)
	for err == nil {
		_, err = s.Recv()
	}
	assert.ErrorIs(t, err, clientgo.ErrClosed)
	_, err = clientgo.Call[[2]int, int](context.Background(), c, "add", [2]int{1, 2})
	assert.ErrorIs(t, err, clientgo.ErrClosed)
	assert.NoError(t, c.Close(), "a second Close")
	for range 2 {
		assert.Error(t, p.waitEnded(t), "the server cancels the handlers of a closed connection")
	}
}

func TestSendAfterServerEnded(t *testing.T) {
	srv, _ := startServer(t)
	c := dial(t, srv.URL)
	s, err := clientgo.CallBidiStream[string, string](context.Background(), c, "chat")
	require.NoError(t, err)
	require.NoError(t, s.CloseSend())
	_, err = s.Recv()
	require.Equal(t, io.EOF, err)
	assert.Equal(t, io.EOF, s.Send("late"), "Send after the server ended the call")
	assert.NoError(t, s.Err())
}

func TestDialErrors(t *testing.T) {
	srv, _ := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err := clientgo.Dial(ctx, srv.URL+"/nope")
	assert.Error(t, err, "wrong path")
	_, err = clientgo.Dial(ctx, "ws://127.0.0.1:1/ws")
	assert.Error(t, err, "nothing listening")
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	_, err = clientgo.Dial(cctx, srv.URL)
	assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
}
