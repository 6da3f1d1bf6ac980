package wire

import (
	"bytes"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

type planInner struct {
	A int8    `msgpack:"a,omitempty"`
	B float32 `json:"b"`
	C string  `msgpack:",omitempty"`
}

type planAll struct {
	Bool     bool
	Int      int      `msgpack:"int"`
	Int8     int8     `msgpack:"i8"`
	Int16    int16    `json:"i16"`
	Int32    int32    `json:"i32,omitempty"`
	Int64    int64    `msgpack:"i64,omitempty"`
	Uint     uint     `msgpack:"u"`
	Uint8    uint8    `msgpack:"u8,omitempty"`
	Uint16   uint16   `msgpack:"u16"`
	Uint32   uint32   `msgpack:"u32"`
	Uint64   uint64   `msgpack:"u64,omitempty"`
	F32      float32  `msgpack:"f32,omitempty"`
	F64      float64  `msgpack:"f64"`
	Str      string   `msgpack:"str,omitempty"`
	Bytes    []byte   `msgpack:"bytes,omitempty"`
	NilBytes []byte   `msgpack:"nilbytes"`
	Strs     []string `msgpack:"strs"`
	Inner    planInner
	Omitted  planInner `msgpack:"omitted,omitempty"`
	Skipped  int       `msgpack:"-"`
	hidden   int
	Anon     struct {
		X uint16 `json:"x"`
	} `msgpack:"anon"`
	LongName_____________________________________ string
}

// The plan writes exactly the library's bytes, for random values of a
// type using every kind it accepts, as a value and through a pointer.
func TestPlanMatchesLibrary(t *testing.T) {
	p := planOf(reflect.TypeFor[planAll]())
	require.NotNil(t, p, "planAll has a plan")
	require.NotNil(t, planOf(reflect.TypeFor[*planAll]()), "so does *planAll")
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		v := randomPlanAll(r)
		want, err := Marshal(v)
		require.NoError(t, err)
		got := p.encode(nil, reflect.ValueOf(v))
		if !bytes.Equal(got, want) {
			t.Fatalf("value %d: %+v\nplan    %s\nlibrary %s", i, v, hex.EncodeToString(got), hex.EncodeToString(want))
		}
		var b Buffer
		enc := GetEncoder()
		enc.use(&b)
		require.NoError(t, enc.encode(&v))
		PutEncoder(enc)
		require.Equal(t, want, b.B, "through a pointer")
	}
	assert.False(t, p.failed.Load())
}

func randomPlanAll(r *rand.Rand) planAll {
	pick := func(vals ...int64) int64 { return vals[r.IntN(len(vals))] }
	ints := []int64{0, 1, -1, 31, -32, -33, 127, 128, -128, -129, 255, 256, 32767, -32768, 65535, 65536, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64}
	// Sizes cross every length boundary of the formats; the largest
	// (str32, bin32, array32) come rarely.
	big := func(small ...int64) int64 {
		if r.IntN(100) == 0 {
			return 70000
		}
		return pick(small...)
	}
	str := func() string {
		return strings.Repeat("é", int(big(0, 1, 15, 16, 31, 32, 200)))
	}
	var v planAll
	v.Bool = r.IntN(2) == 0
	v.Int = int(pick(ints...))
	v.Int8 = int8(pick(ints...))
	v.Int16 = int16(pick(ints...))
	v.Int32 = int32(pick(ints...))
	v.Int64 = pick(ints...)
	v.Uint = uint(pick(ints...))
	v.Uint8 = uint8(pick(ints...))
	v.Uint16 = uint16(pick(ints...))
	v.Uint32 = uint32(pick(ints...))
	v.Uint64 = uint64(pick(ints...))
	v.F32 = float32(r.NormFloat64()) * []float32{0, 1, 1e30}[r.IntN(3)]
	v.F64 = r.NormFloat64() * []float64{0, 1, 1e300}[r.IntN(3)]
	if r.IntN(10) == 0 {
		v.F64 = math.Copysign(0, -1)
	}
	v.Str = str()
	if r.IntN(3) > 0 {
		v.Bytes = make([]byte, big(0, 1, 255, 256, 65535, 65536))
	}
	if r.IntN(2) == 0 {
		v.NilBytes = []byte{}
	}
	if r.IntN(3) > 0 {
		for range big(0, 1, 15, 16) {
			v.Strs = append(v.Strs, str()[:0]+"s")
		}
		if v.Strs == nil {
			v.Strs = []string{}
		}
	}
	v.Inner = planInner{A: int8(pick(ints...)), B: float32(r.Float64()), C: str()}
	if r.IntN(2) == 0 {
		v.Omitted = planInner{A: int8(pick(0, 1)), C: str()[:0]}
	}
	v.Skipped, v.hidden = 7, 8
	v.Anon.X = uint16(pick(ints...))
	v.LongName_____________________________________ = str()
	return v
}

type withMap struct{ M map[string]int }
type withTime struct{ T time.Time }
type withPtr struct{ P *int }
type withAny struct{ A any }
type withIntSlice struct{ S []int }
type named int
type withNamed struct{ N named }
type withEmbedded struct{ planInner }
type withIntern struct {
	S string `msgpack:"s,intern"`
}
type withAsArray struct {
	_msgpack struct{} `msgpack:",as_array"`
	A        int
}
type custom struct{ A int }

func (c custom) EncodeMsgpack(e *msgpack.Encoder) error { return e.EncodeInt(int64(c.A) + 1) }

type withCustom struct{ C custom }
type recursive struct{ Next []recursive }

// Types outside what a plan accepts keep the library's path.
func TestPlanRefuses(t *testing.T) {
	for _, v := range []any{
		0, "s", []byte(nil), map[string]int{}, time.Time{}, custom{},
		withMap{}, withTime{}, withPtr{}, withAny{}, withIntSlice{}, withNamed{},
		withEmbedded{}, withIntern{}, withAsArray{}, withCustom{}, recursive{},
	} {
		assert.Nil(t, planOf(reflect.TypeOf(v)), "%T", v)
	}
	// And they still encode as the library does.
	for _, v := range []any{withCustom{C: custom{A: 1}}, withAsArray{A: 3}} {
		want, err := msgpack.Marshal(v)
		require.NoError(t, err)
		var b Buffer
		enc := GetEncoder()
		enc.use(&b)
		require.NoError(t, enc.encode(v))
		PutEncoder(enc)
		assert.Equal(t, want, b.B, "%T", v)
	}
}

// A plan that ever disagrees with the library is dropped, and the value
// is encoded by the library.
func TestPlanRetiredOnMismatch(t *testing.T) {
	type small struct{ A int }
	p := planOf(reflect.TypeFor[small]())
	require.NotNil(t, p)
	p.fields[0].name = string(appendStr(nil, "B")) // a plan gone wrong
	var b Buffer
	assert.False(t, encodePlanned(&b, small{A: 1}, p))
	assert.Empty(t, b.B)
	assert.True(t, p.failed.Load())
	assert.False(t, encodePlanned(&b, small{A: 1}, p), "never used again")
}

// benchPayload is the small payload of the benchmarks.
type benchPayload struct {
	ID    int64    `msgpack:"id"`
	Name  string   `msgpack:"name"`
	Score float64  `msgpack:"score"`
	Tags  []string `msgpack:"tags"`
	Data  []byte   `msgpack:"data,omitempty"`
}

var benchValue = benchPayload{ID: 42, Name: "swill", Score: 0.5, Tags: []string{"a", "b"}}

func BenchmarkEncodePlanned(b *testing.B) {
	for _, bc := range []struct {
		name   string
		encode func(*Encoder, any) error
	}{
		{"plan", (*Encoder).encode},
		{"library", func(e *Encoder, v any) error { return e.enc.Encode(v) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			enc := GetEncoder()
			defer PutEncoder(enc)
			var buf Buffer
			enc.use(&buf)
			b.ReportAllocs()
			for b.Loop() {
				buf.B = buf.B[:0]
				if err := bc.encode(enc, benchValue); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// planDecodeAgrees decodes data into a T with p alone and with the
// library alone: wherever the plan accepts data, the library must accept
// it too and give the same value.
func planDecodeAgrees[T any](t *testing.T, p *plan, data []byte) {
	t.Helper()
	var got, want T
	r := planReader{b: data}
	accepted := p.decode(&r, reflect.ValueOf(&got).Elem()) && r.i == len(data)
	err := unmarshalLibrary(data, &want)
	if !accepted {
		return
	}
	if err != nil {
		t.Fatalf("% x: the plan accepts what the library refuses (%v): %+v", data, err, got)
	}
	if !sameValue(reflect.ValueOf(got), reflect.ValueOf(want)) {
		t.Fatalf("% x:\nplan    %+v\nlibrary %+v", data, got, want)
	}
}

// The plan decodes what the library encodes into the same values.
func TestPlanDecodesLibraryOutput(t *testing.T) {
	p := planOf(reflect.TypeFor[*planAll]())
	require.NotNil(t, p)
	r := rand.New(rand.NewPCG(3, 4))
	for range 600 { // random structs: a few seconds under the race detector
		v := randomPlanAll(r)
		data, err := Marshal(v)
		require.NoError(t, err)
		var got planAll
		rr := planReader{b: data}
		require.True(t, p.decode(&rr, reflect.ValueOf(&got).Elem()), "the plan takes the library's bytes")
		require.Equal(t, len(data), rr.i)
		planDecodeAgrees[planAll](t, p, data)
		var viaUnmarshal, viaLibrary planAll
		require.NoError(t, Unmarshal(data, &viaUnmarshal))
		require.NoError(t, unmarshalLibrary(data, &viaLibrary))
		require.True(t, reflect.DeepEqual(viaLibrary, viaUnmarshal), "%+v\n%+v", viaLibrary, viaUnmarshal)
	}
	assert.False(t, p.decodeFailed.Load())
}

// On inputs off the plan's path, Unmarshal gives the library's answer.
func TestPlanDecodeDefersToLibrary(t *testing.T) {
	type small struct {
		I  int8     `msgpack:"i"`
		U  uint16   `msgpack:"u"`
		F  float32  `msgpack:"f"`
		D  float64  `msgpack:"d"`
		S  string   `msgpack:"s"`
		B  []byte   `msgpack:"b"`
		SS []string `msgpack:"ss"`
		N  planInner
	}
	p := planOf(reflect.TypeFor[*small]())
	require.NotNil(t, p)
	enc := func(v any) []byte {
		b, err := msgpack.Marshal(v)
		require.NoError(t, err)
		return b
	}
	inputs := [][]byte{
		enc(map[string]any{"i": 300}),              // out of range
		enc(map[string]any{"i": -5, "u": -1}),      // negative into uint
		enc(map[string]any{"f": 1.5, "d": 2}),      // float64 into float32, int into float64
		enc(map[string]any{"s": []byte("bin")}),    // bin into string
		enc(map[string]any{"b": "str"}),            // str into []byte
		enc(map[string]any{"ss": []any{"a", 1}}),   // not a string
		enc(map[string]any{"s": nil, "b": nil}),    // nils
		enc(map[string]any{"x": map[string]any{}}), // unknown field
		enc(map[string]any{"n": nil}),              // nil struct
		enc(map[string]any{"n": map[string]any{"a": 1, "b": 1.5}}),
		enc([]any{1, 2}),                                     // an array
		enc(nil),                                             // nil
		enc("string"),                                        // not a map
		{0x81, 0xa1, 'i'},                                    // truncated
		{0x81, 0xa1, 'i', 0x01, 0x00},                        // trailing
		{0xdf, 0xff, 0xff, 0xff, 0xff},                       // a map longer than its frame
		{0x81, 0xa2, 's', 's', 0xdd, 0xff, 0xff, 0xff, 0xff}, // an array longer than its frame
		{0x82, 0xa1, 'i', 0x01, 0xa1, 'i', 0x02},             // a key twice
	}
	for _, data := range inputs {
		planDecodeAgrees[small](t, p, data)
		var got, want small
		gotErr := Unmarshal(data, &got)
		wantErr := unmarshalLibrary(data, &want)
		assert.Equal(t, wantErr, gotErr, "% x", data)
		assert.Equal(t, want, got, "% x", data)
	}
	assert.False(t, p.decodeFailed.Load())
}

// A value that already holds data is merged into by the library.
func TestPlanDecodeLeavesMergesToLibrary(t *testing.T) {
	v := planInner{A: 5, C: "kept"}
	require.NoError(t, Unmarshal([]byte{0x81, 0xa1, 'b', 0xca, 0x3f, 0x80, 0, 0}, &v))
	assert.Equal(t, planInner{A: 5, B: 1, C: "kept"}, v)
}

func FuzzPlanDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		b, err := Marshal(randomPlanAll(r))
		if err != nil {
			f.Fatal(err)
		}
		if len(b) < 4096 {
			f.Add(b)
		}
	}
	p := planOf(reflect.TypeFor[*planAll]())
	f.Fuzz(func(t *testing.T, data []byte) {
		planDecodeAgrees[planAll](t, p, data)
	})
}

func BenchmarkDecodePlanned(b *testing.B) {
	data, err := Marshal(benchValue)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name      string
		unmarshal func([]byte, any) error
	}{
		{"plan", Unmarshal},
		{"library", unmarshalLibrary},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var v benchPayload
				if err := bc.unmarshal(data, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A length that claims more than the data holds is an error, found
// before the library allocates what it claims.
func TestUnmarshalRefusesLengthsBeyondTheData(t *testing.T) {
	for _, data := range [][]byte{
		[]byte("\x81\xa5bytes\xc6\xf0\x00\x00\x00"),
		[]byte("\x81\xa4strs\xdd\xf0\x00\x00\x00"),
		[]byte("\x81\xa3str\xdb\xf0\x00\x00\x00"),
		[]byte("\x81\xa1x\xc9\xf0\x00\x00\x00\x01"),
		[]byte("\xdd\xf0\x00\x00\x00"),
		[]byte("\xdf\xf0\x00\x00\x00"),
	} {
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		var v planAll
		assert.ErrorContains(t, Unmarshal(data, &v), "unexpected end of input", "% x", data)
		var x any
		assert.ErrorContains(t, Unmarshal(data, &x), "unexpected end of input", "% x", data)
		runtime.ReadMemStats(&b)
		assert.Less(t, b.TotalAlloc-a.TotalAlloc, uint64(1<<20), "% x: allocated what the length claims", data)
	}
}

// A NaN in one of the first payloads, which the plan's decoding is checked
// against the library on, does not turn the plan off.
func TestPlanDecodeKeepsPlanAfterNaN(t *testing.T) {
	type withFloat struct {
		F float32 `msgpack:"f"`
		D float64 `msgpack:"d"`
	}
	p := planOf(reflect.TypeFor[*withFloat]())
	require.NotNil(t, p)
	nan := []byte{0x82, 0xa1, 'f', 0xca, 0x7f, 0xc0, 0, 0, 0xa1, 'd', 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1}
	for range planChecks + 1 {
		var v withFloat
		require.NoError(t, Unmarshal(nan, &v))
		require.True(t, math.IsNaN(float64(v.F)) && math.IsNaN(v.D))
	}
	assert.False(t, p.decodeFailed.Load(), "the plan was turned off")
	assert.Equal(t, int32(planChecks), int32(p.decodeChecked.Load()))
}

// An extension value whose payload reads as a map32 header claiming four
// billion entries, where a map is expected: the library would allocate the
// map before reading an entry. Unmarshal refuses it at once, and still
// decodes extensions where they belong.
func TestExtensionWhereAMapIsExpected(t *testing.T) {
	hostile := []byte("\xd7\xff\xdf0\x00\x0200\x000") // found by FuzzUnmarshal
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m map[string]any
		assert.ErrorIs(t, Unmarshal(hostile, &m), errExtAsContainer)
		var mi map[int]string
		assert.Error(t, Unmarshal(hostile, &mi))
		var s struct {
			M map[string]any `msgpack:"m"`
			T time.Time      `msgpack:"t"`
		}
		inner := append([]byte{0x82, 0xa1, 'm'}, hostile...)
		assert.ErrorIs(t, Unmarshal(append(inner, 0xa1, 't', 0xc0), &s), errExtAsContainer)
		var l []map[string]any
		assert.ErrorIs(t, Unmarshal(append([]byte{0x91}, hostile...), &l), errExtAsContainer)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("decoding took more than 10s")
	}
	// The same bytes are a valid timestamp, where one is expected.
	var ts time.Time
	require.NoError(t, Unmarshal(hostile, &ts))
	var s struct {
		T time.Time      `msgpack:"t"`
		M map[string]any `msgpack:"m"`
	}
	require.NoError(t, Unmarshal(append(append([]byte{0x82, 0xa1, 't'}, hostile...), 0xa1, 'm', 0x80), &s))
	assert.Equal(t, ts, s.T)
	var tl []time.Time
	require.NoError(t, Unmarshal(append([]byte{0x91}, hostile...), &tl))
	var tm map[string]time.Time
	require.NoError(t, Unmarshal(append([]byte{0x81, 0xa1, 'k'}, hostile...), &tm))
}

// A map with a NaN key (a client can send one) encodes: sorting its keys
// looked each up again, and a NaN key is never found.
func TestMarshalMapWithNaNKey(t *testing.T) {
	var v any
	require.NoError(t, Unmarshal([]byte("\x84000000\xcb\xff\xff0000000"), &v)) // found by FuzzUnmarshal
	b, err := Marshal(v)
	require.NoError(t, err)
	var again map[any]any
	require.NoError(t, Unmarshal(b, &again))
	assert.Len(t, again, 2)
	_, err = Marshal(map[any]any{math.NaN(): 1, math.NaN(): 2, 1: 3})
	assert.NoError(t, err)
}
