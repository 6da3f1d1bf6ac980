package wire_test

import (
	"bytes"
	"encoding/hex"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
)

// h decodes hex written with optional spaces.
func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// cat concatenates byte slices.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// str returns the MsgPack header and bytes of a string of n 'a's in the
// given header form.
func strOf(header string, n int) []byte {
	return cat(h(header), bytes.Repeat([]byte("a"), n))
}

func TestParseRequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   []byte
		want wire.Request
	}{
		{"protocol example add(1, 2)", h("93 01 92 01 02 a3 61 64 64"),
			wire.Request{Seq: 1, Data: h("92 01 02"), RPC: []byte("add"), Type: wire.TypeMessage}},
		{"nil data", h("93 07 c0 a3 73 75 6d"),
			wire.Request{Seq: 7, Data: h("c0"), RPC: []byte("sum")}},
		{"end of stream", h("94 07 c0 a3 73 75 6d 01"),
			wire.Request{Seq: 7, Data: h("c0"), RPC: []byte("sum"), Type: wire.TypeEndOfStream}},
		{"metadata first", h("95 07 c0 a3 73 75 6d 02 81 a1 6b a1 76"),
			wire.Request{Seq: 7, Data: h("c0"), RPC: []byte("sum"), Type: wire.TypeMetadata, Metadata: rpc.Metadata{"k": "v"}}},
		{"cancel", h("94 07 c0 a5 73 6c 65 65 70 03"),
			wire.Request{Seq: 7, Data: h("c0"), RPC: []byte("sleep"), Type: wire.TypeCancel}},
		{"five elements, nil metadata", h("95 02 05 a1 78 00 c0"),
			wire.Request{Seq: 2, Data: h("05"), RPC: []byte("x")}},
		{"empty metadata map", h("95 02 05 a1 78 00 80"),
			wire.Request{Seq: 2, Data: h("05"), RPC: []byte("x"), Metadata: rpc.Metadata{}}},
		{"metadata with nested values", h("95 02 05 a1 78 00 82 a1 61 92 01 a1 62 a1 62 81 a1 63 c3"),
			wire.Request{Seq: 2, Data: h("05"), RPC: []byte("x"), Metadata: rpc.Metadata{
				"a": []any{int8(1), "b"}, "b": map[string]any{"c": true}}}},
		{"elements after the fifth are ignored", h("97 02 05 a1 78 00 c0 a5 65 78 74 72 61 c1"),
			wire.Request{Seq: 2, Data: h("05"), RPC: []byte("x")}},
		{"array16 header", h("dc 00 03 01 c0 a1 78"),
			wire.Request{Seq: 1, Data: h("c0"), RPC: []byte("x")}},
		{"array32 header", h("dd 00 00 00 04 01 c0 a1 78 01"),
			wire.Request{Seq: 1, Data: h("c0"), RPC: []byte("x"), Type: wire.TypeEndOfStream}},
		{"type in a wide integer form", h("94 01 c0 a1 78 d3 00 00 00 00 00 00 00 02"),
			wire.Request{Seq: 1, Data: h("c0"), RPC: []byte("x"), Type: wire.TypeMetadata}},
		{"rpc as str8", cat(h("93 01 c0"), h("d9 03"), []byte("add")),
			wire.Request{Seq: 1, Data: h("c0"), RPC: []byte("add")}},
		{"data is a map", h("93 01 82 a4 63 6f 64 65 cd 01 a2 a7 6d 65 73 73 61 67 65 a0 a4 66 61 69 6c"),
			wire.Request{Seq: 1, Data: h("82 a4 63 6f 64 65 cd 01 a2 a7 6d 65 73 73 61 67 65 a0"), RPC: []byte("fail")}},
		{"data of every scalar kind", cat(h("93 01"), h("9f c0 c2 c3 ca 3f 80 00 00 cb 3f f0 00 00 00 00 00 00 c4 01 ff c5 00 01 ff c6 00 00 00 01 ff d4 01 02 d5 01 02 03 d6 ff 00 00 00 01 d7 01 00 00 00 00 00 00 00 01 d8 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 c7 01 05 ff c8 00 01 05 ff"), h("a1 78")),
			wire.Request{Seq: 1, Data: h("9f c0 c2 c3 ca 3f 80 00 00 cb 3f f0 00 00 00 00 00 00 c4 01 ff c5 00 01 ff c6 00 00 00 01 ff d4 01 02 d5 01 02 03 d6 ff 00 00 00 01 d7 01 00 00 00 00 00 00 00 01 d8 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 c7 01 05 ff c8 00 01 05 ff"), RPC: []byte("x")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var r wire.Request
			require.NoError(t, wire.ParseRequest(tc.in, &r))
			assert.Equal(t, tc.want, r)
		})
	}
}

// ParseRequest resets what a previous frame left in the Request.
func TestParseRequestReusesRequest(t *testing.T) {
	t.Parallel()
	var r wire.Request
	require.NoError(t, wire.ParseRequest(h("95 07 c0 a3 73 75 6d 02 81 a1 6b a1 76"), &r))
	require.NoError(t, wire.ParseRequest(h("93 01 92 01 02 a3 61 64 64"), &r))
	assert.Equal(t, wire.Request{Seq: 1, Data: h("92 01 02"), RPC: []byte("add")}, r)
}

// The integer edges of MsgPack: every form a seq may take, including
// wider forms than needed.
func TestParseRequestSeqForms(t *testing.T) {
	t.Parallel()
	cases := []struct {
		enc  string
		want int64
	}{
		{"00", 0},
		{"7f", 127},
		{"cc 80", 128},
		{"cc ff", 255},
		{"cd 01 00", 256},
		{"cd ff ff", 65535},
		{"ce 00 01 00 00", 65536},
		{"ce ff ff ff ff", math.MaxUint32},
		{"cf 00 00 00 01 00 00 00 00", math.MaxUint32 + 1},
		{"cf 7f ff ff ff ff ff ff ff", math.MaxInt64},
		{"ff", -1},
		{"e0", -32},
		{"d0 df", -33},
		{"d0 80", math.MinInt8},
		{"d1 ff 7f", math.MinInt8 - 1},
		{"d1 80 00", math.MinInt16},
		{"d2 ff ff 7f ff", math.MinInt16 - 1},
		{"d2 80 00 00 00", math.MinInt32},
		{"d3 ff ff ff ff 7f ff ff ff", math.MinInt32 - 1},
		{"d3 80 00 00 00 00 00 00 00", math.MinInt64},
		{"cc 01", 1},
		{"cd 00 01", 1},
		{"ce 00 00 00 01", 1},
		{"cf 00 00 00 00 00 00 00 01", 1},
		{"d0 01", 1},
		{"d1 00 01", 1},
		{"d2 00 00 00 01", 1},
		{"d3 00 00 00 00 00 00 00 01", 1},
		{"d0 7f", 127},
		{"d1 7f ff", math.MaxInt16},
		{"d2 7f ff ff ff", math.MaxInt32},
	}
	for _, tc := range cases {
		var r wire.Request
		in := cat(h("93"), h(tc.enc), h("c0 a1 78"))
		require.NoError(t, wire.ParseRequest(in, &r), tc.enc)
		assert.Equal(t, tc.want, r.Seq, tc.enc)
	}
}

// The str8/16/32 boundaries of the rpc name.
func TestParseRequestRPCLengths(t *testing.T) {
	t.Parallel()
	cases := []struct {
		header string
		n      int
	}{
		{"a0", 0},
		{"a1", 1},
		{"bf", 31},
		{"d9 20", 32},
		{"d9 ff", 255},
		{"da 01 00", 256},
		{"da ff ff", 65535},
		{"db 00 01 00 00", 65536},
		{"d9 00", 0},
		{"da 00 05", 5},
		{"db 00 00 00 05", 5},
	}
	for _, tc := range cases {
		var r wire.Request
		in := cat(h("93 01 c0"), strOf(tc.header, tc.n))
		require.NoError(t, wire.ParseRequest(in, &r), tc.header)
		assert.Len(t, r.RPC, tc.n, tc.header)
	}
}

func TestParseRequestMalformed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		in     []byte
		hasSeq bool
		seq    int64
		rpc    string
		reason string
	}{
		{"empty input", nil, false, 0, "", "not a MsgPack array"},
		{"never-used code", h("c1"), false, 0, "", "not a MsgPack array"},
		{"a string", h("a3 61 64 64"), false, 0, "", "not a MsgPack array"},
		{"a map", h("81 a1 61 01"), false, 0, "", "not a MsgPack array"},
		{"an integer", h("01"), false, 0, "", "not a MsgPack array"},
		{"truncated array16 header", h("dc 00"), false, 0, "", "not a MsgPack array"},
		{"truncated array32 header", h("dd 00 00 00"), false, 0, "", "not a MsgPack array"},
		{"no element", h("90"), false, 0, "", "0 elements"},
		{"one element, seq readable", h("91 05"), true, 5, "", "1 elements"},
		{"two elements, seq readable", h("92 05 c0"), true, 5, "", "2 elements"},
		{"two elements, seq a string", h("92 a1 78 c0"), false, 0, "", "2 elements"},
		{"seq a string", h("93 a1 78 c0 a3 61 64 64"), false, 0, "", "seq is not an integer"},
		{"seq nil", h("93 c0 c0 a3 61 64 64"), false, 0, "", "seq is not an integer"},
		{"seq a float", h("93 cb 3f f0 00 00 00 00 00 00 c0 a3 61 64 64"), false, 0, "", "seq is not an integer"},
		{"seq above int64", h("93 cf ff ff ff ff ff ff ff ff c0 a3 61 64 64"), false, 0, "", "seq is not an integer"},
		{"seq truncated", h("93 cd 01"), false, 0, "", "seq is not an integer"},
		{"data missing", h("93 01"), true, 1, "", "data"},
		{"data truncated", h("93 01 92 01"), true, 1, "", "data"},
		{"data with a never-used code", h("93 01 c1 a3 61 64 64"), true, 1, "", "data"},
		{"data declares more elements than the frame holds", h("93 01 dd ff ff ff ff a3 61 64 64"), true, 1, "", "data"},
		{"data declares a longer string than the frame holds", h("93 01 db ff ff ff ff a3 61 64 64"), true, 1, "", "data"},
		{"data declares a longer bin than the frame holds", h("93 01 c6 7f ff ff ff a3 61 64 64"), true, 1, "", "data"},
		{"data declares a longer map than the frame holds", h("93 01 df 7f ff ff ff a3 61 64 64"), true, 1, "", "data"},
		{"rpc missing", h("93 01 c0"), true, 1, "", "rpc is not a string"},
		{"rpc an integer", h("93 01 c0 05"), true, 1, "", "rpc is not a string"},
		{"rpc bin", h("93 01 c0 c4 03 61 64 64"), true, 1, "", "rpc is not a string"},
		{"rpc nil", h("93 01 c0 c0"), true, 1, "", "rpc is not a string"},
		{"rpc truncated", h("93 01 c0 a5 61 64"), true, 1, "", "rpc is not a string"},
		{"type 4", h("94 01 c0 a3 61 64 64 04"), true, 1, "add", "type must be"},
		{"type -1", h("94 01 c0 a3 61 64 64 ff"), true, 1, "add", "type must be"},
		{"type 256", h("94 01 c0 a3 61 64 64 cd 01 00"), true, 1, "add", "type must be"},
		{"type nil", h("94 01 c0 a3 61 64 64 c0"), true, 1, "add", "type must be"},
		{"type a string", h("94 01 c0 a3 61 64 64 a1 30"), true, 1, "add", "type must be"},
		{"type a float", h("94 01 c0 a3 61 64 64 ca 00 00 00 00"), true, 1, "add", "type must be"},
		{"type missing", h("94 01 c0 a3 61 64 64"), true, 1, "add", "type must be"},
		{"metadata an array", h("95 01 c0 a3 61 64 64 00 91 01"), true, 1, "add", "metadata: not a map"},
		{"metadata a string", h("95 01 c0 a3 61 64 64 00 a1 78"), true, 1, "add", "metadata: not a map"},
		{"metadata an integer", h("95 01 c0 a3 61 64 64 00 05"), true, 1, "add", "metadata: not a map"},
		{"metadata with an integer key", h("95 01 c0 a3 61 64 64 00 81 01 02"), true, 1, "add", "metadata: keys must be strings"},
		{"metadata with a nil key", h("95 01 c0 a3 61 64 64 00 81 c0 02"), true, 1, "add", "metadata: keys must be strings"},
		{"metadata with a bin key", h("95 01 c0 a3 61 64 64 00 81 c4 01 61 02"), true, 1, "add", "metadata: keys must be strings"},
		{"metadata with a string key after an integer key", h("95 01 c0 a3 61 64 64 00 82 01 02 a1 61 02"), true, 1, "add", "metadata: keys must be strings"},
		{"metadata with an array key", h("95 01 c0 a3 61 64 64 00 81 91 01 02"), true, 1, "add", "metadata: keys must be strings"},
		{"metadata truncated", h("95 01 c0 a3 61 64 64 00 82 a1 61 01"), true, 1, "add", "metadata"},
		{"metadata missing", h("95 01 c0 a3 61 64 64 00"), true, 1, "add", "metadata"},
		{"data nested too deep", cat(h("93 01"), bytes.Repeat(h("91"), wire.MaxDepth+1), h("c0 a1 78")), true, 1, "", "nested deeper"},
		{"maps nested too deep", cat(h("93 01"), bytes.Repeat(h("81 a0"), wire.MaxDepth+1), h("c0 a1 78")), true, 1, "", "nested deeper"},
		{"metadata nested too deep", cat(h("95 01 c0 a1 78 00 81 a0"), bytes.Repeat(h("91"), wire.MaxDepth), h("c0")), true, 1, "x", "nested deeper"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var r wire.Request
			err := wire.ParseRequest(tc.in, &r)
			var fe *wire.FrameError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.hasSeq, fe.HasSeq, "HasSeq")
			if tc.hasSeq {
				assert.Equal(t, tc.seq, fe.Seq)
				assert.Contains(t, fe.Error(), "seq")
			}
			assert.Equal(t, tc.rpc, fe.RPC)
			assert.Contains(t, fe.Reason, tc.reason)
			assert.Contains(t, fe.Error(), "codec: malformed frame")
		})
	}
}

// Nesting up to MaxDepth is accepted, and empty containers do not count.
func TestParseRequestDepthLimit(t *testing.T) {
	t.Parallel()
	var r wire.Request
	deep := cat(bytes.Repeat(h("91"), wire.MaxDepth), h("c0"))
	require.NoError(t, wire.ParseRequest(cat(h("93 01"), deep, h("a1 78")), &r))
	assert.Equal(t, deep, r.Data)
	var v any
	require.NoError(t, wire.Unmarshal(r.Data, &v))

	emptyAtBottom := cat(bytes.Repeat(h("91"), wire.MaxDepth), h("90"))
	require.NoError(t, wire.ParseRequest(cat(h("93 01"), emptyAtBottom, h("a1 78")), &r))

	// Many containers side by side are not nesting.
	wide := cat(h("dc 10 00"), bytes.Repeat(h("91 91 c0"), 0x1000))
	require.NoError(t, wire.ParseRequest(cat(h("93 01"), wide, h("a1 78")), &r))
	assert.Equal(t, wide, r.Data)
}

func TestParseResponse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   []byte
		want wire.Response
	}{
		{"protocol example: add result", h("95 01 03 00 c0 c0"),
			wire.Response{Seq: 1, Data: h("03"), Type: wire.TypeMessage}},
		{"protocol example: end of countdown", h("95 01 c0 01 c0 81 a5 74 6f 74 61 6c 03"),
			wire.Response{Seq: 1, Data: h("c0"), Type: wire.TypeEndOfStream, Trailing: rpc.Metadata{"total": int8(3)}}},
		{"two elements", h("92 01 03"),
			wire.Response{Seq: 1, Data: h("03"), Type: wire.TypeMessage}},
		{"three elements", h("93 01 03 01"),
			wire.Response{Seq: 1, Data: h("03"), Type: wire.TypeEndOfStream}},
		{"four elements", h("94 01 c0 02 81 a1 78 a1 79"),
			wire.Response{Seq: 1, Data: h("c0"), Type: wire.TypeMetadata, Leading: rpc.Metadata{"x": "y"}}},
		{"leading and trailing", h("95 01 03 00 81 a1 61 01 81 a1 62 02"),
			wire.Response{Seq: 1, Data: h("03"), Leading: rpc.Metadata{"a": int8(1)}, Trailing: rpc.Metadata{"b": int8(2)}}},
		{"error", h("95 01 82 a4 63 6f 64 65 cd 01 94 a7 6d 65 73 73 61 67 65 a1 78 03 c0 c0"),
			wire.Response{Seq: 1, Data: h("82 a4 63 6f 64 65 cd 01 94 a7 6d 65 73 73 61 67 65 a1 78"), Type: wire.TypeError}},
		{"nil type is MESSAGE", h("93 01 03 c0"),
			wire.Response{Seq: 1, Data: h("03"), Type: wire.TypeMessage}},
		{"extra elements ignored", h("96 01 03 00 c0 c0 c1"),
			wire.Response{Seq: 1, Data: h("03")}},
		{"negative seq", h("92 ff c0"),
			wire.Response{Seq: -1, Data: h("c0")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var r wire.Response
			require.NoError(t, wire.ParseResponse(tc.in, &r))
			assert.Equal(t, tc.want, r)
		})
	}
}

func TestParseResponseMalformed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		in     []byte
		hasSeq bool
		reason string
	}{
		{"empty", nil, false, "not a MsgPack array"},
		{"not an array", h("81 a1 61 01"), false, "not a MsgPack array"},
		{"no element", h("90"), false, "0 elements"},
		{"one element", h("91 01"), false, "1 elements"},
		{"seq not an integer", h("92 a1 78 c0"), false, "seq"},
		{"data truncated", h("92 01 92 01"), true, "data"},
		{"data nested too deep", cat(h("92 01"), bytes.Repeat(h("91"), wire.MaxDepth+1), h("c0")), true, "nested deeper"},
		{"type 4", h("93 01 c0 04"), true, "type"},
		{"type negative", h("93 01 c0 ff"), true, "type"},
		{"type a string", h("93 01 c0 a1 30"), true, "type"},
		{"leading not a map", h("94 01 c0 00 91 01"), true, "leading metadata"},
		{"leading with an integer key", h("94 01 c0 00 81 01 01"), true, "leading metadata"},
		{"trailing not a map", h("95 01 c0 00 c0 a1 78"), true, "trailing metadata"},
		{"trailing truncated", h("95 01 c0 00 c0"), true, "trailing metadata"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var r wire.Response
			err := wire.ParseResponse(tc.in, &r)
			var fe *wire.FrameError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.hasSeq, fe.HasSeq)
			assert.Contains(t, fe.Reason, tc.reason)
		})
	}
}

func TestDecodeError(t *testing.T) {
	t.Parallel()
	e, err := wire.DecodeError(h("82 a4 63 6f 64 65 cd 01 a2 a7 6d 65 73 73 61 67 65 a3 74 65 61"))
	require.NoError(t, err)
	assert.Equal(t, rpc.Code(418), e.Code)
	assert.Equal(t, "tea", e.Message)
	assert.Nil(t, e.Data)
	assert.True(t, rpc.IsWireError(e))

	e, err = wire.DecodeError(h("83 a4 63 6f 64 65 cd 01 a6 a7 6d 65 73 73 61 67 65 a1 78 a4 64 61 74 61 81 a1 61 91 01"))
	require.NoError(t, err)
	assert.Equal(t, rpc.CodeValidation, e.Code)
	assert.Equal(t, map[string]any{"a": []any{int8(1)}}, e.Data)

	_, err = wire.DecodeError(h("91 01"))
	assert.Error(t, err)
	_, err = wire.DecodeError(h("82 a4 63 6f 64 65 a1 78 a7 6d 65 73 73 61 67 65 a1 78"))
	assert.Error(t, err, "a code that is not an integer")
}
