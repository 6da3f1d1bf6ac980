package introspect_test

import (
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/rpc"
)

type failRequest struct {
	Code    int    `msgpack:"code"`
	Message string `msgpack:"message"`
}

type node struct {
	Name     string  `msgpack:"name"`
	Children []*node `msgpack:"children"`
}

type page[T any] struct {
	Items []T `msgpack:"items"`
}

type embedded struct {
	ID string `msgpack:"id"`
}

type withEmbedded struct {
	embedded
	Name   string `json:"name"`
	GoName int
	Skip   int `msgpack:"-"`
	hidden int
}

// TestTypeOf checks the reference spelling of each kind of Go type.
func TestTypeOf(t *testing.T) {
	cases := []struct {
		typ  reflect.Type
		want string
	}{
		{reflect.TypeFor[int](), `{"type":"int"}`},
		{reflect.TypeFor[uint8](), `{"type":"int"}`},
		{reflect.TypeFor[int64](), `{"type":"int"}`},
		{reflect.TypeFor[time.Duration](), `{"type":"int"}`},
		{reflect.TypeFor[float32](), `{"type":"float"}`},
		{reflect.TypeFor[string](), `{"type":"str"}`},
		{reflect.TypeFor[bool](), `{"type":"bool"}`},
		{reflect.TypeFor[[]byte](), `{"type":"bytes"}`},
		{reflect.TypeFor[[16]byte](), `{"type":"bytes"}`},
		{reflect.TypeFor[netip.Addr](), `{"type":"bytes"}`},
		{reflect.TypeFor[time.Time](), `{"type":"datetime"}`},
		{reflect.TypeFor[any](), `{"type":"Any"}`},
		{reflect.TypeFor[error](), `{"type":"Any"}`},
		{nil, `{"type":"Any"}`},
		{reflect.TypeFor[codec.None](), `{"type":"None"}`},
		{reflect.TypeFor[codec.RawMessage](), `{"type":"Any"}`},
		{reflect.TypeFor[[2]int](), `{"type":"tuple","arguments":{"0":{"type":"int"},"1":{"type":"int"}}}`},
		{reflect.TypeFor[[]string](), `{"type":"list","arguments":{"0":{"type":"str"}}}`},
		{reflect.TypeFor[map[string]float64](), `{"type":"dict","arguments":{"0":{"type":"str"},"1":{"type":"float"}}}`},
		{reflect.TypeFor[rpc.Metadata](), `{"type":"dict","arguments":{"0":{"type":"str"},"1":{"type":"Any"}}}`},
		{reflect.TypeFor[*int](), `{"type":"Optional","arguments":{"0":{"type":"int"}}}`},
		{reflect.TypeFor[failRequest](), `{"type":"failRequest","arguments":{"code":{"type":"int"},"message":{"type":"str"}}}`},
		{reflect.TypeFor[*failRequest](), `{"type":"Optional","arguments":{"0":{"type":"failRequest","arguments":{"code":{"type":"int"},"message":{"type":"str"}}}}}`},
		{reflect.TypeFor[node](), `{"type":"node","arguments":{"name":{"type":"str"},"children":{"type":"list","arguments":{"0":{"type":"Optional","arguments":{"0":{"type":"node"}}}}}}}`},
		{reflect.TypeFor[page[failRequest]](), `{"type":"page_failRequest","arguments":{"items":{"type":"list","arguments":{"0":{"type":"failRequest","arguments":{"code":{"type":"int"},"message":{"type":"str"}}}}}}}`},
		{reflect.TypeFor[withEmbedded](), `{"type":"withEmbedded","arguments":{"id":{"type":"str"},"name":{"type":"str"},"GoName":{"type":"int"}}}`},
		{reflect.TypeFor[struct {
			X int `msgpack:"x"`
		}](), `{"type":"TypedDict","arguments":{"x":{"type":"int"}}}`},
		{reflect.TypeFor[struct{}](), `{"type":"TypedDict"}`},
	}
	for _, tc := range cases {
		name := "nil"
		if tc.typ != nil {
			name = tc.typ.String()
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(introspect.TypeOf(tc.typ))
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(b))
			// Key order is part of the format: compare the bytes too.
			assert.Equal(t, tc.want, string(b))
		})
	}
}

// TestEntryBytes checks the exact MsgPack of an item: keys in the
// reference's order, integer argument keys.
func TestEntryBytes(t *testing.T) {
	e := introspect.NewEntry(introspect.Spec{Name: "add", Kind: rpc.KindUnary, Request: reflect.TypeFor[[2]int](), Response: reflect.TypeFor[int]()})
	b, err := codec.Marshal(e)
	require.NoError(t, err)
	want := strings.Join([]string{
		"83",
		"a46e616d65", "a3616464", // "name": "add"
		"a772657175657374", "82", // "request": {
		"a773747265616d73", "c2", //   "streams": false,
		"a474797065", "82", //   "type": {
		"a474797065", "a57475706c65", //     "type": "tuple",
		"a9617267756d656e7473", "82", //     "arguments": {
		"00", "81a474797065a3696e74", //       0: {"type": "int"},
		"01", "81a474797065a3696e74", //       1: {"type": "int"}}}},
		"a8726573706f6e7365", "82", // "response": {
		"a773747265616d73", "c2", //   "streams": false,
		"a474797065", "81a474797065a3696e74", //   "type": {"type": "int"}}
	}, "")
	assert.Equal(t, want, hex.EncodeToString(b))

	var back introspect.Entry
	require.NoError(t, codec.Unmarshal(b, &back))
	assert.Equal(t, e, back)
	arg, ok := back.Request.Type.Arguments.Get(1)
	require.True(t, ok)
	assert.Equal(t, "int", arg.Type)
	_, ok = back.Request.Type.Arguments.Get("1")
	assert.False(t, ok)
}

// TestEntryStreams checks the streams flags of each kind.
func TestEntryStreams(t *testing.T) {
	for _, k := range []rpc.Kind{rpc.KindUnary, rpc.KindServerStream, rpc.KindClientStream, rpc.KindBidiStream} {
		e := introspect.NewEntry(introspect.Spec{Name: "x", Kind: k, Request: reflect.TypeFor[any](), Response: reflect.TypeFor[any]()})
		assert.Equal(t, k.RequestStreams(), e.Request.Streams, k.String())
		assert.Equal(t, k.ResponseStreams(), e.Response.Streams, k.String())
	}
}

// TestEntryRoundTrip decodes entries from MsgPack and JSON back to the
// same values.
func TestEntryRoundTrip(t *testing.T) {
	e := introspect.NewEntry(introspect.Spec{
		Name: "x", Kind: rpc.KindBidiStream,
		Request:  reflect.TypeFor[map[int][]*node](),
		Response: reflect.TypeFor[page[withEmbedded]](),
	})
	b, err := codec.Marshal(e)
	require.NoError(t, err)
	var fromMsgpack introspect.Entry
	require.NoError(t, codec.Unmarshal(b, &fromMsgpack))
	assert.Equal(t, e, fromMsgpack)

	j, err := json.Marshal(e)
	require.NoError(t, err)
	var fromJSON introspect.Entry
	require.NoError(t, json.Unmarshal(j, &fromJSON))
	assert.Equal(t, e, fromJSON)

	var bad introspect.Type
	assert.Error(t, json.Unmarshal([]byte(`{"type":"list","arguments":{"x":{"type":"int"}}}`), &bad))
}

// TestStructName checks the names given to generic structs.
func TestStructName(t *testing.T) {
	assert.Equal(t, "failRequest", introspect.StructName(reflect.TypeFor[failRequest]()))
	assert.Equal(t, "page_failRequest", introspect.StructName(reflect.TypeFor[page[failRequest]]()))
	assert.Equal(t, "page_int", introspect.StructName(reflect.TypeFor[page[int]]()))
	assert.Equal(t, "page_map_string_page_Time", introspect.StructName(reflect.TypeFor[page[map[string]page[time.Time]]]()))
	assert.Equal(t, "", introspect.StructName(reflect.TypeFor[struct{}]()))
}
