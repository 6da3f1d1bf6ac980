package codec_test

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/codec"
)

// wireInt is an integer as it can travel: any int64 or uint64.
type wireInt struct {
	neg bool   // the value is the int64 s
	s   int64  // when neg
	u   uint64 // when !neg
}

func (w wireInt) String() string {
	if w.neg {
		return strconv.FormatInt(w.s, 10)
	}
	return strconv.FormatUint(w.u, 10)
}

func (w wireInt) encode(t *testing.T) []byte {
	t.Helper()
	var b []byte
	var err error
	if w.neg {
		b, err = codec.Marshal(w.s)
	} else {
		b, err = codec.Marshal(w.u)
	}
	require.NoError(t, err)
	return b
}

func signed(n int64) wireInt {
	if n < 0 {
		return wireInt{neg: true, s: n}
	}
	return wireInt{u: uint64(n)}
}

func unsigned(n uint64) wireInt { return wireInt{u: n} }

// bounds lists the edges of an integer type: the values at and beside
// its limits that fit, and those just outside that do not.
type bounds struct {
	fit, overflow []wireInt
}

func signedBounds(bits int) bounds {
	lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
	if bits == 64 {
		lo, hi = math.MinInt64, math.MaxInt64
	}
	b := bounds{fit: []wireInt{signed(lo), signed(lo + 1), signed(-33), signed(-32), signed(-1), signed(0), signed(127), signed(hi - 1), signed(hi)}}
	if bits < 64 {
		b.overflow = []wireInt{signed(lo - 1), signed(hi + 1), signed(math.MinInt64), signed(math.MaxInt64)}
	}
	b.overflow = append(b.overflow, unsigned(math.MaxInt64+1), unsigned(math.MaxUint64))
	return b
}

func unsignedBounds(bits int) bounds {
	hi := uint64(1)<<bits - 1
	if bits == 64 {
		hi = math.MaxUint64
	}
	b := bounds{
		fit:      []wireInt{unsigned(0), unsigned(1), unsigned(127), unsigned(128), unsigned(hi - 1), unsigned(hi)},
		overflow: []wireInt{signed(-1), signed(-32), signed(-33), signed(math.MinInt64)},
	}
	if bits < 64 {
		b.overflow = append(b.overflow, unsigned(hi+1), unsigned(math.MaxUint64))
	}
	return b
}

type (
	level  int8   // a named integer type
	amount uint16 // another
)

// TestIntegerRanges decodes the values at every edge of every integer
// type, on the plan's path (a struct of plain fields) and the library's
// (a bare value, a list, a map, a pointer): what fits decodes exactly and
// encodes as the same bytes as its value at full width; what does not fit
// is a *codec.RangeError naming the value and the type, never a
// truncated value.
func TestIntegerRanges(t *testing.T) {
	t.Parallel()
	t.Run("int8", func(t *testing.T) { rangeCases[int8](t, signedBounds(8)) })
	t.Run("int16", func(t *testing.T) { rangeCases[int16](t, signedBounds(16)) })
	t.Run("int32", func(t *testing.T) { rangeCases[int32](t, signedBounds(32)) })
	t.Run("int64", func(t *testing.T) { rangeCases[int64](t, signedBounds(64)) })
	t.Run("int", func(t *testing.T) { rangeCases[int](t, signedBounds(strconv.IntSize)) })
	t.Run("uint8", func(t *testing.T) { rangeCases[uint8](t, unsignedBounds(8)) })
	t.Run("uint16", func(t *testing.T) { rangeCases[uint16](t, unsignedBounds(16)) })
	t.Run("uint32", func(t *testing.T) { rangeCases[uint32](t, unsignedBounds(32)) })
	t.Run("uint64", func(t *testing.T) { rangeCases[uint64](t, unsignedBounds(64)) })
	t.Run("uint", func(t *testing.T) { rangeCases[uint](t, unsignedBounds(strconv.IntSize)) })
	t.Run("named int8", func(t *testing.T) { rangeCases[level](t, signedBounds(8)) })
	t.Run("named uint16", func(t *testing.T) { rangeCases[amount](t, unsignedBounds(16)) })
}

type integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// holder is a struct of plain fields, which codec decodes with a plan.
type holder[T integer] struct {
	V T `msgpack:"v"`
}

func rangeCases[T integer](t *testing.T, b bounds) {
	t.Parallel()
	typ := reflect.TypeFor[T]()
	for _, w := range b.fit {
		data := w.encode(t)
		// Encoding: a T writes the bytes of its value at full width.
		var x T
		if w.neg {
			x = T(w.s)
		} else {
			x = T(w.u)
		}
		enc, err := codec.Marshal(x)
		require.NoError(t, err)
		assert.Equal(t, data, enc, "%s %s encodes in its smallest form", typ, w)
		assert.Equal(t, w.String(), fmt.Sprint(x))

		var v T
		require.NoError(t, codec.Unmarshal(data, &v), "%s into %s", w, typ)
		assert.Equal(t, x, v)
		var h holder[T]
		require.NoError(t, codec.Unmarshal(structOf(t, data), &h), "%s into a struct field of %s", w, typ)
		assert.Equal(t, x, h.V)
		if typ.Kind() != reflect.Uint8 { // a []uint8 is bytes
			var list []T
			require.NoError(t, codec.Unmarshal(listOf(data), &list))
			assert.Equal(t, []T{0, x}, list)
		}
		var m map[string]T
		require.NoError(t, codec.Unmarshal(mapOf(data), &m))
		assert.Equal(t, map[string]T{"a": x}, m)
		var p *T
		require.NoError(t, codec.Unmarshal(data, &p))
		require.NotNil(t, p)
		assert.Equal(t, x, *p)
	}
	for _, w := range b.overflow {
		data := w.encode(t)
		cases := []struct {
			name, path string
			data       []byte
			into       any
		}{
			{"a value", "", data, new(T)},
			{"a pointer", "", data, new(*T)},
			{"a struct field", `field "v"`, structOf(t, data), new(holder[T])},
			{"a list element", "[1]", listOf(data), new([]T)},
			{"a map value", `field "a"`, mapOf(data), new(map[string]T)},
			{"a nested field", `field "in"[0].v`, nestedOf(t, data), new(struct {
				In []holder[T] `msgpack:"in"`
			})},
		}
		for _, tc := range cases {
			if tc.name == "a list element" && typ.Kind() == reflect.Uint8 {
				continue
			}
			err := codec.Unmarshal(tc.data, tc.into)
			var re *codec.RangeError
			if !assert.True(t, errors.As(err, &re), "%s into %s (%s): %v", w, typ, tc.name, err) {
				continue
			}
			assert.Equal(t, w.String(), re.Value, tc.name)
			assert.Equal(t, typ, re.Type, tc.name)
			assert.Equal(t, tc.path, re.Path, tc.name)
			want := fmt.Sprintf("%s does not fit in %s", w, typ)
			if tc.path != "" {
				want = tc.path + ": " + want
			}
			assert.Equal(t, "codec: "+want, err.Error(), tc.name)
		}
	}
}

// structOf is the map {"v": v}.
func structOf(t *testing.T, v []byte) []byte {
	b, err := codec.Marshal(map[string]codec.RawMessage{"v": v})
	require.NoError(t, err)
	return b
}

// nestedOf is the map {"in": [{"v": v}]}.
func nestedOf(t *testing.T, v []byte) []byte {
	b, err := codec.Marshal(map[string]any{"in": []any{map[string]codec.RawMessage{"v": v}}})
	require.NoError(t, err)
	return b
}

// listOf is the list [0, v]: 0 fits every integer type.
func listOf(v []byte) []byte { return append([]byte{0x92, 0x00}, v...) }

// mapOf is the map {"a": v}.
func mapOf(v []byte) []byte { return append([]byte{0x81, 0xa1, 'a'}, v...) }

// TestIntegerIntoAny keeps the wire width when there is no Go type to
// check against.
func TestIntegerIntoAny(t *testing.T) {
	t.Parallel()
	var u, s any
	require.NoError(t, codec.Unmarshal(h("cd 01 2c"), &u))
	assert.Equal(t, uint16(300), u)
	require.NoError(t, codec.Unmarshal(h("d0 80"), &s))
	assert.Equal(t, int8(-128), s)
}
