package codec_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/wire"
)

type signup struct {
	Name  string `msgpack:"name"`
	Email string `json:"email"`
	Age   int    `msgpack:"age" json:"ignored"`
}

func TestUnmarshalStructTags(t *testing.T) {
	t.Parallel()
	// {"age": 30, "email": "a@b", "name": "Al"}
	in := h("83 a3 61 67 65 1e a5 65 6d 61 69 6c a3 61 40 62 a4 6e 61 6d 65 a2 41 6c")
	var s signup
	require.NoError(t, codec.Unmarshal(in, &s))
	assert.Equal(t, signup{Name: "Al", Email: "a@b", Age: 30}, s)

	out, err := codec.Marshal(s)
	require.NoError(t, err)
	var back signup
	require.NoError(t, codec.Unmarshal(out, &back))
	assert.Equal(t, s, back)
}

func TestUnmarshalIntoAny(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want any
	}{
		{"nil", "c0", nil},
		{"positive fixint", "05", int8(5)},
		{"uint8", "cc ff", uint8(255)},
		{"uint16", "cd 01 00", uint16(256)},
		{"negative", "d0 80", int8(-128)},
		{"int64", "d3 80 00 00 00 00 00 00 00", int64(-1 << 63)},
		{"string keys give map[string]any", "82 a1 61 01 a1 62 91 02", map[string]any{"a": int8(1), "b": []any{int8(2)}}},
		{"an integer key gives map[any]any", "82 a1 61 01 02 a1 62", map[any]any{"a": int8(1), int8(2): "b"}},
		{"integer keys (the reference's dict[int, ...])", "82 00 a1 61 01 a1 62", map[any]any{int8(0): "a", int8(1): "b"}},
		{"nested maps each decide", "81 a1 6d 81 01 02", map[string]any{"m": map[any]any{int8(1): int8(2)}}},
		{"empty map", "80", map[string]any{}},
		{"bin", "c4 02 01 02", []byte{1, 2}},
		{"tuple as array", "92 01 a1 78", []any{int8(1), "x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var v any
			require.NoError(t, codec.Unmarshal(h(tc.in), &v))
			assert.Equal(t, tc.want, v)
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	t.Parallel()
	var v any
	err := codec.Unmarshal(h("01 02"), &v)
	require.Error(t, err, "trailing bytes after the value")
	assert.Contains(t, err.Error(), "trailing")

	assert.Error(t, codec.Unmarshal(h("81 91 01 02"), &v), "an array as a map key")
	assert.Error(t, codec.Unmarshal(h("82 01 02 80 03"), &v), "a map as a map key")
	assert.Error(t, codec.Unmarshal(h("92 01"), &v), "truncated")
	assert.Error(t, codec.Unmarshal(nil, &v), "empty")

	var n int
	assert.Error(t, codec.Unmarshal(h("a1 78"), &n), "a string into an int")
	var pair [2]int
	require.NoError(t, codec.Unmarshal(h("92 01 02"), &pair))
	assert.Equal(t, [2]int{1, 2}, pair)

	// The decoder keeps working after errors (it is pooled).
	for i := 0; i < 10; i++ {
		v = nil
		assert.Error(t, codec.Unmarshal(h("c1"), &v))
		v = nil
		require.NoError(t, codec.Unmarshal(h("81 a1 61 01"), &v))
		assert.Equal(t, map[string]any{"a": int8(1)}, v)
	}
}

// A destination the MsgPack library cannot decode into makes Unmarshal
// fail, not panic.
func TestUnmarshalIntoUsedValue(t *testing.T) {
	t.Parallel()
	got := []any{map[string]any{"old": 1}}
	err := codec.Unmarshal(h("91 81 a1 61 01"), &got)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot decode into *[]interface {}")

	var fresh []any
	require.NoError(t, codec.Unmarshal(h("91 81 a1 61 01"), &fresh), "the pool still works")
	assert.Equal(t, []any{map[string]any{"a": int8(1)}}, fresh)
}

func TestNone(t *testing.T) {
	t.Parallel()
	b, err := codec.Marshal(codec.None{})
	require.NoError(t, err)
	assert.Equal(t, "c0", hexOf(b))
	var n codec.None
	assert.NoError(t, codec.Unmarshal(h("c0"), &n))
	assert.NoError(t, codec.Unmarshal(h("82 a1 61 01 a1 62 92 01 02"), &n), "None accepts and discards any value")
}

func TestRawMessage(t *testing.T) {
	t.Parallel()
	var r codec.RawMessage
	require.NoError(t, codec.Unmarshal(h("92 01 a1 78"), &r))
	assert.Equal(t, "9201a178", hexOf(r))
	b, err := codec.Marshal(struct {
		V codec.RawMessage `msgpack:"v"`
	}{r})
	require.NoError(t, err)
	assert.Equal(t, "81a1769201a178", hexOf(b))
}

func TestMarshal(t *testing.T) {
	t.Parallel()
	b, err := codec.Marshal(map[string]any{"z": 1, "a": []any{300, -1}})
	require.NoError(t, err)
	assert.Equal(t, "82a16192cd012cffa17a01", hexOf(b))

	_, err = codec.Marshal(make(chan int))
	assert.Error(t, err)
}

func TestFrameErrorMessages(t *testing.T) {
	t.Parallel()
	var fe *wire.FrameError
	assert.Equal(t, "codec: malformed frame: x", (&wire.FrameError{Reason: "x"}).Error())
	assert.Equal(t, "codec: malformed frame (seq 4): x", (&wire.FrameError{Seq: 4, HasSeq: true, Reason: "x"}).Error())
	assert.True(t, errors.As(wire.ParseRequest(nil, &wire.Request{}), &fe))
}

// TestMaxDepth: the documented limit is the one the decoder applies.
func TestMaxDepth(t *testing.T) {
	t.Parallel()
	assert.Equal(t, wire.MaxDepth, codec.MaxDepth)
}
