package codec_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/vmihailenco/msgpack/v5"
)

type withMaps struct {
	Counts map[string]int            `msgpack:"counts"`
	ByID   map[int64]string          `msgpack:"by_id"`
	Nested map[string]map[uint8]bool `msgpack:"nested"`
	Ptr    *map[string]float64       `msgpack:"ptr"`
	List   []map[string]int          `msgpack:"list"`
}

// decodedFirst is only ever decoded before it is encoded: the library
// compiles its encoders while decoding.
type decodedFirst struct {
	M map[string]int `msgpack:"m"`
}

type namedKey string

// ownEncoding encodes itself; its order is its own business.
type ownEncoding map[string]int

func (ownEncoding) EncodeMsgpack(enc *msgpack.Encoder) error { return enc.EncodeString("own") }

// Every map the protocol writes has its keys in order, whatever its Go
// type, so that equal values always give equal bytes.
func TestMapKeysSorted(t *testing.T) {
	t.Parallel()
	many := func() map[string]int {
		m := map[string]int{}
		for _, k := range []string{"k", "c", "x", "a", "q", "b", "z", "m", "e", "d", "y", "f"} {
			m[k] = len(m)
		}
		return m
	}
	f := 1.5
	v := withMaps{
		Counts: many(),
		ByID:   map[int64]string{300: "c", -5: "a", 7: "b", 1 << 40: "d"},
		Nested: map[string]map[uint8]bool{"b": {2: true, 1: false}, "a": {9: true, 3: true}},
		Ptr:    &map[string]float64{"y": f, "x": f},
		List:   []map[string]int{many(), many()},
	}
	first, err := codec.Marshal(v)
	require.NoError(t, err)
	for i := 0; i < 20; i++ {
		again, err := codec.Marshal(v)
		require.NoError(t, err)
		require.Equal(t, hexOf(first), hexOf(again), "the same value encodes the same way")
	}
	var back map[string]any
	require.NoError(t, codec.Unmarshal(first, &back))

	got, err := codec.Marshal(map[int]string{3: "c", -1: "a", 2: "b"})
	require.NoError(t, err)
	assert.Equal(t, "83ffa16102a16203a163", hexOf(got), "integer keys in numeric order")

	got, err = codec.Marshal(map[namedKey]int{"b": 2, "a": 1})
	require.NoError(t, err)
	assert.Equal(t, "82a16101a16202", hexOf(got))

	got, err = codec.Marshal(map[any]any{"b": 1, int8(2): "x", "a": 0, int8(-1): "y", true: 0})
	require.NoError(t, err)
	assert.Equal(t, "85c300ffa17902a178a16100a16201", hexOf(got), "mixed keys: bools, numbers, strings")

	got, err = codec.Marshal(ownEncoding{"b": 1, "a": 2})
	require.NoError(t, err)
	assert.Equal(t, "a36f776e", hexOf(got), "a type's own encoder is kept")

	// The same through an Encoder, as frames are written, also when the
	// value's dynamic type only shows at run time.
	b := wire.GetBuffer()
	defer wire.PutBuffer(b)
	enc := wire.GetEncoder()
	defer wire.PutEncoder(enc)
	var res any = map[string]uint16{"b": 1, "a": 2}
	require.NoError(t, enc.Response(b, 1, wire.TypeMessage, res, nil, nil))
	assert.Equal(t, "950182a16102a1620100c0c0", hexOf(b.B))
	b.Reset()
	enc.Error(b, 1, rpc.NewError(rpc.CodeValidation, "x").WithData(map[string][]int{"b": {1}, "a": {2}}))
	assert.Equal(t, "950183a4636f6465cd01a6a76d657373616765a178a46461746182a1619102a162910103c0c0", hexOf(b.B))
}

func TestMapKeysSortedAfterDecode(t *testing.T) {
	t.Parallel()
	var d decodedFirst
	require.NoError(t, codec.Unmarshal(h("81 a1 6d 83 a1 63 03 a1 61 01 a1 62 02"), &d))
	for i := 0; i < 20; i++ {
		got, err := codec.Marshal(d)
		require.NoError(t, err)
		require.Equal(t, "81a16d83a16101a16202a16303", hexOf(got))
	}
}

type firstOfTwo struct {
	N int `msgpack:"n"`
}

type secondOfTwo struct {
	M map[int16]string `msgpack:"m"`
}

// A pooled encoder that remembers the last type it prepared still sorts
// the maps of the next, different, type.
func TestMapKeysSortedAfterAnotherType(t *testing.T) {
	enc := wire.GetEncoder()
	defer wire.PutEncoder(enc)
	var b wire.Buffer
	require.NoError(t, enc.Value(&b, firstOfTwo{N: 1}))
	b.Reset()
	require.NoError(t, enc.Value(&b, secondOfTwo{M: map[int16]string{9: "c", -3: "a", 4: "b", 100: "d", 0: "e"}}))
	var back struct {
		M msgpack.RawMessage `msgpack:"m"`
	}
	require.NoError(t, codec.Unmarshal(b.B, &back))
	// fixmap of 5: -3, 0, 4, 9, 100 in order.
	assert.Equal(t, "85"+"fda161"+"00a165"+"04a162"+"09a163"+"64a164", hexOf(back.M))
}
