package wire_test

import (
	"encoding/hex"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
)

func encodeResponse(tb testing.TB, seq int64, typ wire.FrameType, data any, leading, trailing rpc.Metadata) []byte {
	tb.Helper()
	b := wire.GetBuffer()
	defer wire.PutBuffer(b)
	enc := wire.GetEncoder()
	defer wire.PutEncoder(enc)
	require.NoError(tb, enc.Response(b, seq, typ, data, leading, trailing))
	return append([]byte(nil), b.B...)
}

func encodeRequest(tb testing.TB, seq int64, name string, typ wire.FrameType, data any, md rpc.Metadata) []byte {
	tb.Helper()
	b := wire.GetBuffer()
	defer wire.PutBuffer(b)
	enc := wire.GetEncoder()
	defer wire.PutEncoder(enc)
	require.NoError(tb, enc.Request(b, seq, name, typ, data, md))
	return append([]byte(nil), b.B...)
}

func encodeError(seq int64, e *rpc.Error) []byte {
	b := wire.GetBuffer()
	defer wire.PutBuffer(b)
	enc := wire.GetEncoder()
	defer wire.PutEncoder(enc)
	enc.Error(b, seq, e)
	return append([]byte(nil), b.B...)
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// Every response frame kind, byte for byte as the reference writes it:
// always five elements, nil defaults, sorted metadata keys.
func TestEncoderResponse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name              string
		seq               int64
		typ               wire.FrameType
		data              any
		leading, trailing rpc.Metadata
		want              string
	}{
		{"protocol example: add result", 1, wire.TypeMessage, 3, nil, nil, "95 01 03 00 c0 c0"},
		{"protocol example: end of countdown", 1, wire.TypeEndOfStream, nil, nil, rpc.Metadata{"total": 3}, "95 01 c0 01 c0 81 a5 74 6f 74 61 6c 03"},
		{"metadata alone", 4, wire.TypeMetadata, nil, rpc.Metadata{"x": "y"}, nil, "95 04 c0 02 81 a1 78 a1 79 c0"},
		{"empty leading metadata is a map", 4, wire.TypeMetadata, nil, rpc.Metadata{}, nil, "95 04 c0 02 80 c0"},
		{"result with leading and trailing", 2, wire.TypeMessage, "ok", rpc.Metadata{"hello": "world"}, rpc.Metadata{"bye": "world"},
			"95 02 a2 6f 6b 00 81 a5 68 65 6c 6c 6f a5 77 6f 72 6c 64 81 a3 62 79 65 a5 77 6f 72 6c 64"},
		{"metadata keys sorted", 1, wire.TypeMessage, nil, rpc.Metadata{"b": 2, "a": 1, "c": map[string]any{"z": 1, "y": 2}}, nil,
			"95 01 c0 00 83 a1 61 01 a1 62 02 a1 63 82 a1 79 02 a1 7a 01 c0"},
		{"codec.None encodes as nil", 1, wire.TypeMessage, codec.None{}, nil, nil, "95 01 c0 00 c0 c0"},
		{"raw message written as is", 1, wire.TypeMessage, wire.RawMessage(h("92 01 02")), nil, nil, "95 01 92 01 02 00 c0 c0"},
		{"struct by msgpack tag", 1, wire.TypeMessage, struct {
			ID   string `msgpack:"id"`
			Name string `json:"name"`
		}{"u1", "Alice"}, nil, nil, "95 01 82 a2 69 64 a2 75 31 a4 6e 61 6d 65 a5 41 6c 69 63 65 00 c0 c0"},
		{"map[string]any payload sorted", 1, wire.TypeMessage, map[string]any{"b": 1, "a": 2}, nil, nil, "95 01 82 a1 61 02 a1 62 01 00 c0 c0"},
		{"map[string]string payload sorted", 1, wire.TypeMessage, map[string]string{"b": "1", "a": "2"}, nil, nil, "95 01 82 a1 61 a1 32 a1 62 a1 31 00 c0 c0"},
		{"negative seq", -1, wire.TypeMessage, 0, nil, nil, "95 ff 00 00 c0 c0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := encodeResponse(t, tc.seq, tc.typ, tc.data, tc.leading, tc.trailing)
			assert.Equal(t, hexOf(h(tc.want)), hexOf(got))
			var r wire.Response
			require.NoError(t, wire.ParseResponse(got, &r))
			assert.Equal(t, tc.seq, r.Seq)
			assert.Equal(t, tc.typ, r.Type)
			assert.Equal(t, tc.leading == nil, r.Leading == nil)
			assert.Equal(t, tc.trailing == nil, r.Trailing == nil)
		})
	}
}

// Integers take their smallest MsgPack form, at every edge, in the seq
// the encoder writes by hand and in payloads written by the library.
func TestEncoderIntegerEdges(t *testing.T) {
	t.Parallel()
	cases := []struct {
		n    int64
		want string
	}{
		{0, "00"},
		{1, "01"},
		{127, "7f"},
		{128, "cc 80"},
		{255, "cc ff"},
		{256, "cd 01 00"},
		{65535, "cd ff ff"},
		{65536, "ce 00 01 00 00"},
		{math.MaxUint32, "ce ff ff ff ff"},
		{math.MaxUint32 + 1, "cf 00 00 00 01 00 00 00 00"},
		{math.MaxInt64, "cf 7f ff ff ff ff ff ff ff"},
		{-1, "ff"},
		{-32, "e0"},
		{-33, "d0 df"},
		{math.MinInt8, "d0 80"},
		{math.MinInt8 - 1, "d1 ff 7f"},
		{math.MinInt16, "d1 80 00"},
		{math.MinInt16 - 1, "d2 ff ff 7f ff"},
		{math.MinInt32, "d2 80 00 00 00"},
		{math.MinInt32 - 1, "d3 ff ff ff ff 7f ff ff ff"},
		{math.MinInt64, "d3 80 00 00 00 00 00 00 00"},
	}
	for _, tc := range cases {
		want := h(tc.want)
		frame := encodeResponse(t, tc.n, wire.TypeMessage, tc.n, nil, nil)
		assert.Equal(t, hexOf(cat(h("95"), want, want, h("00 c0 c0"))), hexOf(frame), "%d", tc.n)
		var r wire.Response
		require.NoError(t, wire.ParseResponse(frame, &r))
		assert.Equal(t, tc.n, r.Seq)
		var back int64
		require.NoError(t, wire.Unmarshal(r.Data, &back))
		assert.Equal(t, tc.n, back)

		req := encodeRequest(t, tc.n, "x", wire.TypeMessage, nil, nil)
		var q wire.Request
		require.NoError(t, wire.ParseRequest(req, &q))
		assert.Equal(t, tc.n, q.Seq)
	}
	// Unsigned Go values above int64 still use uint 64.
	got, err := wire.Marshal(uint64(math.MaxUint64))
	require.NoError(t, err)
	assert.Equal(t, "cfffffffffffffffff", hexOf(got))
}

// The fixstr/str8/str16/str32 boundaries of the rpc name the encoder
// writes by hand, and of error messages.
func TestEncoderStringEdges(t *testing.T) {
	t.Parallel()
	cases := []struct {
		n      int
		header string
	}{
		{0, "a0"},
		{31, "bf"},
		{32, "d9 20"},
		{255, "d9 ff"},
		{256, "da 01 00"},
		{65535, "da ff ff"},
		{65536, "db 00 01 00 00"},
	}
	for _, tc := range cases {
		name := stringOfA(tc.n)
		req := encodeRequest(t, 1, name, wire.TypeMessage, nil, nil)
		assert.Equal(t, hexOf(cat(h("93 01 c0"), strOf(tc.header, tc.n))), hexOf(req), "rpc of %d bytes", tc.n)
		var q wire.Request
		require.NoError(t, wire.ParseRequest(req, &q))
		assert.Equal(t, name, string(q.RPC))

		frame := encodeError(1, rpc.NewError(rpc.CodeBadRequest, name))
		want := cat(h("95 01 82 a4 63 6f 64 65 cd 01 90 a7 6d 65 73 73 61 67 65"), strOf(tc.header, tc.n), h("03 c0 c0"))
		assert.Equal(t, hexOf(want), hexOf(frame), "message of %d bytes", tc.n)
		var r wire.Response
		require.NoError(t, wire.ParseResponse(frame, &r))
		e, err := wire.DecodeError(r.Data)
		require.NoError(t, err)
		assert.Equal(t, name, e.Message)
	}
}

func stringOfA(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

func TestEncoderError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		seq  int64
		err  *rpc.Error
		want string
	}{
		{"no data: two keys", 1, rpc.NewError(418, "tea"),
			"95 01 82 a4 63 6f 64 65 cd 01 a2 a7 6d 65 73 73 61 67 65 a3 74 65 61 03 c0 c0"},
		{"data after code and message", 1, rpc.NewError(rpc.CodeValidation, "Validation Error").WithData(map[string]any{"name": []map[string]any{{"description": "length less than 2"}}}),
			"950183a4636f6465cd01a6a76d657373616765b056616c69646174696f6e204572726f72a46461746181a46e616d659181ab6465736372697074696f6eb26c656e677468206c657373207468616e203203c0c0"},
		{"empty message", 9, rpc.NewError(rpc.CodeInternal, ""),
			"95 09 82 a4 63 6f 64 65 cd 01 f4 a7 6d 65 73 73 61 67 65 a0 03 c0 c0"},
		{"negative code", 1, rpc.NewError(-1, "x"),
			"95 01 82 a4 63 6f 64 65 ff a7 6d 65 73 73 61 67 65 a1 78 03 c0 c0"},
		{"data that cannot be encoded is left out", 1, rpc.NewError(rpc.CodeInternal, "x").WithData(make(chan int)),
			"95 01 82 a4 63 6f 64 65 cd 01 f4 a7 6d 65 73 73 61 67 65 a1 78 03 c0 c0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := encodeError(tc.seq, tc.err)
			assert.Equal(t, hexOf(h(tc.want)), hexOf(got))
			var r wire.Response
			require.NoError(t, wire.ParseResponse(got, &r))
			assert.Equal(t, wire.TypeError, r.Type)
			e, err := wire.DecodeError(r.Data)
			require.NoError(t, err)
			assert.Equal(t, tc.err.Code, e.Code)
			assert.Equal(t, tc.err.Message, e.Message)
		})
	}
}

// The reference client's compact request forms.
func TestEncoderRequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		seq  int64
		rpc  string
		typ  wire.FrameType
		data any
		md   rpc.Metadata
		want string
	}{
		{"protocol example add(1, 2)", 1, "add", wire.TypeMessage, [2]int{1, 2}, nil, "93 01 92 01 02 a3 61 64 64"},
		{"nil data", 1, "add", wire.TypeMessage, nil, nil, "93 01 c0 a3 61 64 64"},
		{"end of stream: four elements", 3, "sum", wire.TypeEndOfStream, nil, nil, "94 03 c0 a3 73 75 6d 01"},
		{"cancel: four elements", 3, "sum", wire.TypeCancel, nil, nil, "94 03 c0 a3 73 75 6d 03"},
		{"metadata: five elements", 3, "sum", wire.TypeMetadata, nil, rpc.Metadata{"k": "v"}, "95 03 c0 a3 73 75 6d 02 81 a1 6b a1 76"},
		{"message with metadata", 3, "add", wire.TypeMessage, []int{1}, rpc.Metadata{}, "95 03 91 01 a3 61 64 64 00 80"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := encodeRequest(t, tc.seq, tc.rpc, tc.typ, tc.data, tc.md)
			assert.Equal(t, hexOf(h(tc.want)), hexOf(got))
			var r wire.Request
			require.NoError(t, wire.ParseRequest(got, &r))
			assert.Equal(t, tc.seq, r.Seq)
			assert.Equal(t, tc.rpc, string(r.RPC))
			assert.Equal(t, tc.typ, r.Type)
			if tc.md != nil {
				assert.Equal(t, len(tc.md), len(r.Metadata))
			} else {
				assert.Nil(t, r.Metadata)
			}
		})
	}
}

// A value that cannot be encoded leaves the buffer as it was, so frames
// already in it stay intact.
func TestEncoderFailureLeavesBuffer(t *testing.T) {
	t.Parallel()
	b := wire.GetBuffer()
	defer wire.PutBuffer(b)
	enc := wire.GetEncoder()
	defer wire.PutEncoder(enc)
	require.NoError(t, enc.Response(b, 1, wire.TypeMessage, 3, nil, nil))
	before := hexOf(b.B)

	assert.Error(t, enc.Response(b, 2, wire.TypeMessage, make(chan int), nil, nil))
	assert.Error(t, enc.Response(b, 2, wire.TypeMessage, 1, rpc.Metadata{"f": func() {}}, nil))
	assert.Error(t, enc.Response(b, 2, wire.TypeMessage, 1, nil, rpc.Metadata{"c": make(chan int)}))
	assert.Error(t, enc.Request(b, 2, "x", wire.TypeMessage, make(chan int), nil))
	assert.Error(t, enc.Request(b, 2, "x", wire.TypeMetadata, nil, rpc.Metadata{"c": make(chan int)}))
	assert.Error(t, enc.Value(b, make(chan int)))
	assert.Equal(t, before, hexOf(b.B))

	require.NoError(t, enc.Value(b, "v"))
	assert.Equal(t, before+"a176", hexOf(b.B))
}

// One encoder writes into several buffers in turn.
func TestEncoderSwitchesBuffers(t *testing.T) {
	t.Parallel()
	enc := wire.GetEncoder()
	defer wire.PutEncoder(enc)
	var a, b wire.Buffer
	require.NoError(t, enc.Response(&a, 1, wire.TypeMessage, "a", nil, nil))
	require.NoError(t, enc.Response(&b, 2, wire.TypeMessage, "b", nil, nil))
	require.NoError(t, enc.Response(&a, 3, wire.TypeMessage, "c", nil, nil))
	assert.Equal(t, "9501a16100c0c09503a16300c0c0", hexOf(a.B))
	assert.Equal(t, "9502a16200c0c0", hexOf(b.B))
}

func TestBuffer(t *testing.T) {
	t.Parallel()
	b := wire.GetBuffer()
	assert.Equal(t, 0, b.Len())
	n, err := b.Write([]byte("ab"))
	assert.Equal(t, 2, n)
	assert.NoError(t, err)
	assert.NoError(t, b.WriteByte('c'))
	n, err = b.WriteString("de")
	assert.Equal(t, 2, n)
	assert.NoError(t, err)
	assert.Equal(t, "abcde", string(b.B))
	assert.Equal(t, 5, b.Len())
	b.Reset()
	assert.Equal(t, 0, b.Len())
	wire.PutBuffer(b)

	// Buffers come back empty, and a huge one is not kept.
	big := wire.GetBuffer()
	big.B = append(big.B, make([]byte, 1<<20)...)
	wire.PutBuffer(big)
	for i := 0; i < 10; i++ {
		b := wire.GetBuffer()
		assert.Equal(t, 0, b.Len())
		assert.Less(t, cap(b.B), 1<<20)
		wire.PutBuffer(b)
	}
}
