package swill_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

type nilPoint struct {
	X int `msgpack:"x"`
}

// describe answers what its handler received, so the tests can tell a nil
// from a zero value.
func describe[T any](ctx context.Context, in T) (string, error) {
	return typeAndValue(in), nil
}

func typeAndValue(v any) string {
	switch x := v.(type) {
	case *nilPoint:
		if x == nil {
			return "nil *nilPoint"
		}
	case []int:
		if x == nil {
			return "nil []int"
		}
	case map[string]int:
		if x == nil {
			return "nil map"
		}
	case nil:
		return "nil any"
	}
	return "value"
}

// A nil payload is refused with ERROR 400 naming the problem when the
// request type has no nil (a number, a string, a struct, an array), in a
// unary call and as a stream item; pointer, interface, slice and map
// request types, and types that decode themselves, receive nil. The connection keeps serving either way.
func TestNilPayload(t *testing.T) {
	t.Parallel()
	srv := swilltest.NewServer()
	require.NoError(t, demosvc.Register(srv))
	require.NoError(t, srv.Register(
		swill.Unary("int", describe[int]),
		swill.Unary("string", describe[string]),
		swill.Unary("struct", describe[nilPoint]),
		swill.Unary("array", describe[[2]int]),
		swill.Unary("pointer", describe[*nilPoint]),
		swill.Unary("any", describe[any]),
		swill.Unary("slice", describe[[]int]),
		swill.Unary("map", describe[map[string]int]),
		swill.Unary("none", describe[codec.None]),
		swill.ClientStream("pointers", func(ctx context.Context, in <-chan *nilPoint) (string, error) {
			var s string
			for v := range in {
				s += typeAndValue(v) + ";"
			}
			return s, nil
		}),
	))
	c := dialWire(t, swilltest.Start(t, srv))

	refused := []struct{ rpc, want string }{
		{"add", "array of 2 int"}, // the demo's add, as the issue found it: [1, nil, "add"]
		{"int", "int"},
		{"string", "string"},
		{"struct", "nilPoint"},
		{"array", "array of 2 int"},
	}
	for i, tc := range refused {
		seq := int64(100 + i)
		c.msg(seq, tc.rpc, nil)
		r := c.recv()
		require.Equal(t, seq, r.Seq, tc.rpc)
		e := r.rpcErr(t)
		assert.Equal(t, rpc.CodeBadRequest, e.Code, tc.rpc)
		assert.Contains(t, e.Message, "payload is nil", tc.rpc)
		assert.Contains(t, e.Message, tc.want, tc.rpc)
		assert.Contains(t, e.Message, `"`+tc.rpc+`"`, tc.rpc)
		c.alive()
	}

	accepted := []struct{ rpc, got string }{
		{"pointer", "nil *nilPoint"},
		{"any", "nil any"},
		{"slice", "nil []int"},
		{"map", "nil map"},
		{"none", "value"}, // codec.None decodes itself: nil is its value
	}
	for i, tc := range accepted {
		seq := int64(200 + i)
		c.msg(seq, tc.rpc, nil)
		r := c.recv()
		require.Equal(t, seq, r.Seq, tc.rpc)
		require.Equal(t, wire.TypeMessage, r.Type, "%s: frame % x", tc.rpc, r.raw)
		assert.Equal(t, tc.got, r.value(t), tc.rpc)
	}

	// A stream of ints: a nil item ends the call with one ERROR 400.
	c.msg(300, "sum", 1)
	c.msg(300, "sum", nil)
	r := c.recv()
	require.Equal(t, int64(300), r.Seq)
	e := r.rpcErr(t)
	assert.Equal(t, rpc.CodeBadRequest, e.Code)
	assert.Contains(t, e.Message, "payload is nil")
	c.msg(300, "sum", 2) // the call is over: ignored
	c.end(300, "sum")
	c.quiet(50 * time.Millisecond)
	c.alive()

	// A stream of pointers takes nil items.
	c.msg(301, "pointers", nilPoint{X: 1})
	c.msg(301, "pointers", nil)
	c.end(301, "pointers")
	r = c.recv()
	require.Equal(t, int64(301), r.Seq)
	require.Equal(t, wire.TypeMessage, r.Type, "frame % x", r.raw)
	assert.Equal(t, "value;nil *nilPoint;", r.value(t))
}
