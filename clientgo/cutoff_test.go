package clientgo_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/rpc"
)

// A stream cut short must never read as a complete one: only the server's
// END_OF_STREAM gives io.EOF. These tests kill the server (every TCP
// connection dropped, no close frame: what a crash or a network failure
// looks like) in the middle of each kind of stream.

// assertCutOff checks that err reports a lost connection and not an end of
// stream.
func assertCutOff(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, clientgo.ErrConnectionLost)
	assert.NotErrorIs(t, err, io.EOF, "a lost connection reads as the end of the stream: %v", err)
	assert.False(t, rpc.IsWireError(err))
}

// recvUntilError reads until Recv fails, within the test's bound.
func recvUntilError[T any](t *testing.T, recv func() (T, error)) error {
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if _, err := recv(); err != nil {
			return err
		}
	}
	t.Fatal("the stream goes on after the server was killed")
	return nil
}

func TestServerStreamCutOff(t *testing.T) {
	k := startKillable(t)
	c := dial(t, k.url(), clientgo.WithoutReconnect())
	s, err := clientgo.CallServerStream[any, int](context.Background(), c, "ticker", nil)
	require.NoError(t, err)
	k.probe.waitStarted(t, "ticker")
	for i := 0; i < 3; i++ {
		_, err := s.Recv()
		require.NoError(t, err)
	}
	k.kill()
	assertCutOff(t, recvUntilError(t, s.Recv))
	assertCutOff(t, s.Err())
	// Recv keeps reporting the error, never io.EOF.
	_, err = s.Recv()
	assertCutOff(t, err)
}

func TestServerStreamAllCutOff(t *testing.T) {
	k := startKillable(t)
	c := dial(t, k.url(), clientgo.WithoutReconnect())
	s, err := clientgo.CallServerStream[any, int](context.Background(), c, "ticker", nil)
	require.NoError(t, err)
	var items int
	var last error
	for _, err := range s.All() {
		if err != nil {
			last = err
			continue
		}
		if items++; items == 3 {
			k.kill()
		}
	}
	assert.GreaterOrEqual(t, items, 3)
	// All yields the error: a range loop that checks it sees the cut.
	assertCutOff(t, last)
}

func TestClientStreamCutOff(t *testing.T) {
	k := startKillable(t)
	c := dial(t, k.url(), clientgo.WithoutReconnect())
	s, err := clientgo.CallClientStream[int, int](context.Background(), c, "sum")
	require.NoError(t, err)
	require.NoError(t, s.Send(1))
	require.NoError(t, s.Send(2))
	// The server has the stream open: a unary call behind it is answered.
	sum, err := clientgo.Call[[2]int, int](testCtx(t), c, "add", [2]int{1, 2})
	require.NoError(t, err)
	require.Equal(t, 3, sum)
	k.kill()
	_, err = s.CloseAndReceive()
	assertCutOff(t, err)
	// Send after the loss reports it too, not io.EOF (which means the
	// server already answered).
	assertCutOff(t, s.Send(3))
}

func TestBidiStreamCutOff(t *testing.T) {
	k := startKillable(t)
	c := dial(t, k.url(), clientgo.WithoutReconnect())
	s, err := clientgo.CallBidiStream[string, string](context.Background(), c, "echo")
	require.NoError(t, err)
	require.NoError(t, s.Send("a"))
	got, err := s.Recv()
	require.NoError(t, err)
	require.Equal(t, "a", got)
	k.kill()
	assertCutOff(t, recvUntilError(t, s.Recv))
	assertCutOff(t, s.Err())
	assertCutOff(t, s.Send("b"))
	assertCutOff(t, s.CloseSend())
}

// TestStreamEndsAreTold checks every other way a stream ends: each has its
// own error, and only the server's END_OF_STREAM is io.EOF.
func TestStreamEndsAreTold(t *testing.T) {
	k := startKillable(t)
	c := dial(t, k.url(), clientgo.WithoutReconnect())

	t.Run("end of stream", func(t *testing.T) {
		s, err := clientgo.CallServerStream[int, int](testCtx(t), c, "countdown", 2)
		require.NoError(t, err)
		for range 2 {
			_, err := s.Recv()
			require.NoError(t, err)
		}
		_, err = s.Recv()
		assert.Equal(t, io.EOF, err)
		assert.NoError(t, s.Err())
	})
	t.Run("context cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s, err := clientgo.CallServerStream[any, int](ctx, c, "ticker", nil)
		require.NoError(t, err)
		k.probe.waitStarted(t, "ticker")
		cancel()
		err = recvUntilError(t, s.Recv)
		assert.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, io.EOF)
		k.probe.waitEnded(t)
	})
	t.Run("stream closed", func(t *testing.T) {
		s, err := clientgo.CallBidiStream[string, string](testCtx(t), c, "echo")
		require.NoError(t, err)
		require.NoError(t, s.Close())
		_, err = s.Recv()
		assert.ErrorIs(t, err, clientgo.ErrStreamClosed)
		assert.NotErrorIs(t, err, io.EOF)
		assert.ErrorIs(t, s.Send("x"), clientgo.ErrStreamClosed)
	})
	t.Run("server shutdown", func(t *testing.T) {
		s, err := clientgo.CallServerStream[any, int](testCtx(t), c, "ticker", nil)
		require.NoError(t, err)
		k.probe.waitStarted(t, "ticker")
		k.mu.Lock()
		srv := k.srv
		k.mu.Unlock()
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // no grace: the running stream is cut
		srv.Shutdown(ctx)
		err = recvUntilError(t, s.Recv)
		assert.NotErrorIs(t, err, io.EOF, "a stream cut by the server's shutdown reads as complete: %v", err)
		// The server's 503 for the cancelled stream or the closed
		// connection, whichever comes first.
		if !errors.Is(err, clientgo.ErrConnectionLost) {
			assert.Equal(t, rpc.CodeUnavailable, rpc.CodeOf(err), "got %v", err)
		}
	})
}

func TestClientCloseEndsStreams(t *testing.T) {
	k := startKillable(t)
	c := dial(t, k.url(), clientgo.WithoutReconnect())
	s, err := clientgo.CallServerStream[any, int](testCtx(t), c, "ticker", nil)
	require.NoError(t, err)
	k.probe.waitStarted(t, "ticker")
	require.NoError(t, c.Close())
	err = recvUntilError(t, s.Recv)
	assert.ErrorIs(t, err, clientgo.ErrClosed)
	assert.NotErrorIs(t, err, io.EOF)
}
