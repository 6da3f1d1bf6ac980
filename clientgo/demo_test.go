package clientgo_test

import (
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/rpc"
)

// Every handler of the demo service, over a real loopback WebSocket.

type failRequest struct {
	Code    int    `msgpack:"code"`
	Message string `msgpack:"message"`
}

type signupRequest struct {
	Name  string `msgpack:"name"`
	Email string `msgpack:"email"`
	Age   int    `msgpack:"age"`
}

type signupResponse struct {
	ID   string `msgpack:"id"`
	Name string `msgpack:"name"`
}

func TestDemo(t *testing.T) {
	srv := swilltest.StartDemo(t)
	c := dial(t, srv.URL)

	t.Run("add", func(t *testing.T) {
		t.Parallel()
		sum, err := clientgo.Call[[2]int, int](testCtx(t), c, "add", [2]int{1, 2})
		require.NoError(t, err)
		assert.Equal(t, 3, sum)
	})

	t.Run("countdown", func(t *testing.T) {
		t.Parallel()
		var trailer rpc.Metadata
		s, err := clientgo.CallServerStream[int, int](testCtx(t), c, "countdown", 3, clientgo.CaptureTrailer(&trailer))
		require.NoError(t, err)
		var got []int
		for n, err := range s.All() {
			require.NoError(t, err)
			got = append(got, n)
		}
		assert.Equal(t, []int{3, 2, 1}, got)
		assert.NoError(t, s.Err())
		assert.EqualValues(t, 3, s.Trailer()["total"])
		assert.EqualValues(t, 3, trailer["total"])
		_, err = s.Recv()
		assert.Equal(t, io.EOF, err, "Recv after the end")
	})

	t.Run("countdown zero", func(t *testing.T) {
		t.Parallel()
		s, err := clientgo.CallServerStream[int, int](testCtx(t), c, "countdown", 0)
		require.NoError(t, err)
		_, err = s.Recv()
		assert.Equal(t, io.EOF, err)
		assert.EqualValues(t, 0, s.Trailer()["total"])
	})

	t.Run("sum", func(t *testing.T) {
		t.Parallel()
		s, err := clientgo.CallClientStream[int, int](testCtx(t), c, "sum")
		require.NoError(t, err)
		for i := 1; i <= 100; i++ {
			require.NoError(t, s.Send(i))
		}
		total, err := s.CloseAndReceive()
		require.NoError(t, err)
		assert.Equal(t, 5050, total)
	})

	t.Run("sum of nothing", func(t *testing.T) {
		t.Parallel()
		s, err := clientgo.CallClientStream[int, int](testCtx(t), c, "sum")
		require.NoError(t, err)
		total, err := s.CloseAndReceive()
		require.NoError(t, err)
		assert.Equal(t, 0, total)
	})

	t.Run("fail", func(t *testing.T) {
		t.Parallel()
		_, err := clientgo.Call[failRequest, codec.None](testCtx(t), c, "fail", failRequest{Code: 418, Message: "teapot"})
		var e *rpc.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, rpc.Code(418), e.Code)
		assert.Equal(t, "teapot", e.Message)
		assert.True(t, rpc.IsWireError(err))
		assert.Equal(t, rpc.Code(418), rpc.CodeOf(err))
		assert.ErrorIs(t, err, rpc.NewError(418, ""), "errors.Is matches by code")
	})

	t.Run("fail missing field", func(t *testing.T) {
		t.Parallel()
		_, err := clientgo.Call[map[string]any, codec.None](testCtx(t), c, "fail", map[string]any{"code": 400})
		require.Error(t, err)
		assert.True(t, rpc.IsWireError(err))
		assert.Contains(t, []rpc.Code{rpc.CodeBadRequest, rpc.CodeValidation}, rpc.CodeOf(err))
	})

	t.Run("sleep", func(t *testing.T) {
		t.Parallel()
		ms, err := clientgo.Call[int, int](testCtx(t), c, "sleep", 20)
		require.NoError(t, err)
		assert.Equal(t, 20, ms)
	})

	t.Run("boom", func(t *testing.T) {
		t.Parallel()
		_, err := clientgo.Call[any, any](testCtx(t), c, "boom", nil)
		var e *rpc.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, rpc.CodeInternal, e.Code)
		assert.Equal(t, "An internal server error occurred", e.Message)
		assert.True(t, rpc.IsWireError(err))
	})

	t.Run("lead", func(t *testing.T) {
		t.Parallel()
		var header rpc.Metadata
		s, err := clientgo.CallServerStream[int, int](testCtx(t), c, "lead", 3, clientgo.CaptureHeader(&header))
		require.NoError(t, err)
		var got []int
		for {
			n, err := s.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			assert.Equal(t, "y", s.Header()["x"], "leading metadata is known with the first item")
			got = append(got, n)
		}
		assert.Equal(t, []int{0, 1, 2}, got)
		assert.Equal(t, rpc.Metadata{"x": "y"}, header)
	})

	for _, name := range []string{"echo", "echo_untyped"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := clientgo.CallBidiStream[any, any](testCtx(t), c, name)
			require.NoError(t, err)
			in := []any{"a", int8(1), map[string]any{"k": "v"}, []any{true, nil}}
			for _, v := range in {
				require.NoError(t, s.Send(v))
				got, err := s.Recv()
				require.NoError(t, err)
				assert.EqualValues(t, v, got)
			}
			require.NoError(t, s.CloseSend())
			_, err = s.Recv()
			assert.Equal(t, io.EOF, err)
		})
	}

	t.Run("metadata", func(t *testing.T) {
		t.Parallel()
		var header, trailer rpc.Metadata
		got, err := clientgo.Call[any, rpc.Metadata](testCtx(t), c, "metadata", nil,
			clientgo.WithMetadata(rpc.Metadata{"token": "abc", "n": 7}),
			clientgo.CaptureHeader(&header), clientgo.CaptureTrailer(&trailer))
		require.NoError(t, err)
		assert.Equal(t, "abc", got["token"])
		assert.EqualValues(t, 7, got["n"])
		assert.Contains(t, got, rpc.TimeoutKey, "the test context's deadline travels as metadata")
		assert.Equal(t, rpc.Metadata{"hello": "world"}, header)
		assert.Equal(t, rpc.Metadata{"bye": "world"}, trailer)
	})

	t.Run("signup", func(t *testing.T) {
		t.Parallel()
		u, err := clientgo.Call[signupRequest, signupResponse](testCtx(t), c, "signup", signupRequest{Name: "Ada", Email: "ada@example.com", Age: 36})
		require.NoError(t, err)
		assert.Equal(t, signupResponse{ID: "u1", Name: "Ada"}, u)
	})

	t.Run("signup invalid", func(t *testing.T) {
		t.Parallel()
		_, err := clientgo.Call[signupRequest, signupResponse](testCtx(t), c, "signup", signupRequest{Name: "A", Email: "a@example.com", Age: 12})
		var e *rpc.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, rpc.CodeValidation, e.Code)
		assert.True(t, rpc.IsWireError(err))
		fields, ok := e.Data.(map[string]any)
		require.True(t, ok, "validation data is a map, got %T", e.Data)
		assert.Equal(t, []any{map[string]any{"description": "less than 13"}}, fields["age"])
		assert.Equal(t, []any{map[string]any{"description": "length less than 2"}}, fields["name"])
	})

	t.Run("unknown rpc", func(t *testing.T) {
		t.Parallel()
		_, err := clientgo.Call[int, int](testCtx(t), c, "nope", 1)
		assert.Equal(t, rpc.CodeNotFound, rpc.CodeOf(err))
		assert.True(t, rpc.IsWireError(err))
		assert.False(t, errors.Is(err, clientgo.ErrConnectionLost))
	})

	t.Run("wrong request type", func(t *testing.T) {
		t.Parallel()
		_, err := clientgo.Call[string, int](testCtx(t), c, "add", "x")
		assert.Equal(t, rpc.CodeBadRequest, rpc.CodeOf(err))
	})

	t.Run("wrong result type", func(t *testing.T) {
		t.Parallel()
		_, err := clientgo.Call[[2]int, string](testCtx(t), c, "add", [2]int{1, 2})
		require.Error(t, err)
		assert.False(t, rpc.IsWireError(err), "a local decoding failure is not a server error")
	})

	t.Run("a result that does not fit its integer type", func(t *testing.T) {
		t.Parallel()
		_, err := clientgo.Call[[2]int, uint8](testCtx(t), c, "add", [2]int{200, 100})
		var re *codec.RangeError
		require.ErrorAs(t, err, &re, "300 is not truncated to 44")
		assert.Equal(t, "300", re.Value)
		assert.Equal(t, "uint8", re.Type.String())
		assert.False(t, rpc.IsWireError(err))
		n, err := clientgo.Call[[2]int, uint8](testCtx(t), c, "add", [2]int{-1, 0})
		require.ErrorAs(t, err, &re, "-1 is not 255")
		assert.Zero(t, n)
		n, err = clientgo.Call[[2]int, uint8](testCtx(t), c, "add", [2]int{200, 55})
		require.NoError(t, err)
		assert.Equal(t, uint8(255), n)
	})
}
