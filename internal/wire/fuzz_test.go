package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
)

// signup is a struct the fuzzers decode into, besides any.
type signup struct {
	Name  string `msgpack:"name"`
	Email string `json:"email"`
	Age   int    `msgpack:"age" json:"ignored"`
}

// requestSeeds are request frames, well-formed and not, that start the
// fuzzer off (and run on every go test).
var requestSeeds = []string{
	"93 01 92 01 02 a3 61 64 64",
	"94 07 c0 a3 73 75 6d 01",
	"95 07 c0 a3 73 75 6d 02 81 a1 6b a1 76",
	"94 07 c0 a5 73 6c 65 65 70 03",
	"95 02 05 a1 78 00 82 a1 61 92 01 a1 62 a1 62 81 a1 63 c3",
	"97 02 05 a1 78 00 c0 a5 65 78 74 72 61 c1",
	"dc 00 03 01 c0 a1 78",
	"dd 00 00 00 04 01 c0 a1 78 01",
	"93 01 83 a4 6e 61 6d 65 a1 41 a5 65 6d 61 69 6c a3 61 40 62 a3 61 67 65 05 a6 73 69 67 6e 75 70",
	"93 01 9f c0 c2 c3 ca 3f 80 00 00 cb 3f f0 00 00 00 00 00 00 c4 01 ff c5 00 01 ff c6 00 00 00 01 ff d4 01 02 d5 01 02 03 d6 ff 00 00 00 01 d7 01 00 00 00 00 00 00 00 01 d8 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 c7 01 05 ff c8 00 01 05 ff a1 78",
	"95 01 c0 a1 78 00 81 a1 74 d6 ff 00 00 00 01",
	"95 01 c0 a1 78 00 81 a1 6d 82 01 02 a1 61 c0",
	"95 01 c0 a1 78 00 81 a1 66 cb 7f f8 00 00 00 00 00 01",
	"93 cf ff ff ff ff ff ff ff ff c0 a1 78",
	"93 d3 80 00 00 00 00 00 00 00 c0 a1 78",
	"93 01 dd ff ff ff ff a3 61 64 64",
	"93 01 db ff ff ff ff a3 61 64 64",
	"95 01 c0 a3 61 64 64 00 81 01 02",
	"95 01 c0 a3 61 64 64 00 81 c0 02",
	"94 01 c0 a3 61 64 64 c0",
	"92 05 c0",
	"90",
	"c1",
	"",
}

var responseSeeds = []string{
	"95 01 03 00 c0 c0",
	"95 01 c0 01 c0 81 a5 74 6f 74 61 6c 03",
	"92 01 03",
	"93 01 03 01",
	"94 01 c0 02 81 a1 78 a1 79",
	"95 01 82 a4 63 6f 64 65 cd 01 94 a7 6d 65 73 73 61 67 65 a1 78 03 c0 c0",
	"950183a4636f6465cd01a6a76d657373616765b056616c69646174696f6e204572726f72a46461746181a46e616d659181ab6465736372697074696f6eb26c656e677468206c657373207468616e203203c0c0",
	"93 01 03 c0",
	"96 01 03 00 c0 c0 c1",
	"95 01 c0 00 c0 a1 78",
	"91 01",
}

// FuzzParseRequest checks that no input makes the request decoder panic,
// that it only ever fails with a *FrameError, that a frame it accepts
// encodes back to one that decodes to the same request, that payloads
// it accepts are safe to decode, and that it keeps working afterwards.
func FuzzParseRequest(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add(h(s))
	}
	f.Add(cat(h("93 01"), bytes.Repeat(h("91"), wire.MaxDepth+1), h("c0 a1 78")))
	f.Add(cat(h("93 01"), bytes.Repeat(h("91"), wire.MaxDepth), h("c0 a1 78")))
	f.Fuzz(func(t *testing.T, in []byte) {
		var r wire.Request
		err := wire.ParseRequest(in, &r)
		defer checkStillWorks(t)
		if err != nil {
			var fe *wire.FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if r.Type > wire.TypeCancel {
			t.Fatalf("type %d accepted", r.Type)
		}
		// The payload is safe to decode, whatever the handler's type.
		var v any
		_ = wire.Unmarshal(r.Data, &v)
		var s signup
		_ = wire.Unmarshal(r.Data, &s)
		var pair [2]int
		_ = wire.Unmarshal(r.Data, &pair)

		b := wire.GetBuffer()
		defer wire.PutBuffer(b)
		enc := wire.GetEncoder()
		defer wire.PutEncoder(enc)
		md := r.Metadata
		if md == nil && r.Type == wire.TypeMetadata {
			md = rpc.Metadata{} // the compact form needs metadata to write a type
		}
		if err := enc.Request(b, r.Seq, string(r.RPC), r.Type, wire.RawMessage(r.Data), md); err != nil {
			t.Fatalf("re-encoding %+v: %v", r, err)
		}
		var again wire.Request
		if err := wire.ParseRequest(b.B, &again); err != nil {
			t.Fatalf("decoding the re-encoded frame % x: %v", b.B, err)
		}
		if again.Seq != r.Seq || !bytes.Equal(again.Data, r.Data) || !bytes.Equal(again.RPC, r.RPC) || again.Type != r.Type {
			t.Fatalf("round trip changed the frame: %+v, then %+v", r, again)
		}
		if got, want := canonical(again.Metadata), canonical(md); !agree(want, got) {
			t.Fatalf("round trip changed the metadata: %s, then %s", want, got)
		}
	})
}

// FuzzParseResponse is FuzzParseRequest for response frames, as a
// client decodes them.
func FuzzParseResponse(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add(h(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var r wire.Response
		err := wire.ParseResponse(in, &r)
		defer checkStillWorks(t)
		if err != nil {
			var fe *wire.FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if r.Type > wire.TypeError {
			t.Fatalf("type %d accepted", r.Type)
		}
		if r.Type == wire.TypeError {
			_, _ = wire.DecodeError(r.Data)
		}
		var v any
		_ = wire.Unmarshal(r.Data, &v)

		b := wire.GetBuffer()
		defer wire.PutBuffer(b)
		enc := wire.GetEncoder()
		defer wire.PutEncoder(enc)
		if err := enc.Response(b, r.Seq, r.Type, wire.RawMessage(r.Data), r.Leading, r.Trailing); err != nil {
			t.Fatalf("re-encoding %+v: %v", r, err)
		}
		var again wire.Response
		if err := wire.ParseResponse(b.B, &again); err != nil {
			t.Fatalf("decoding the re-encoded frame % x: %v", b.B, err)
		}
		if again.Seq != r.Seq || !bytes.Equal(again.Data, r.Data) || again.Type != r.Type {
			t.Fatalf("round trip changed the frame: %+v, then %+v", r, again)
		}
		if !agree(canonical(r.Leading), canonical(again.Leading)) || !agree(canonical(r.Trailing), canonical(again.Trailing)) {
			t.Fatalf("round trip changed the metadata: %+v, then %+v", r, again)
		}
	})
}

// checkStillWorks decodes a well-formed frame, so that an input that
// left pooled state broken is caught.
func checkStillWorks(t *testing.T) {
	var r wire.Request
	if err := wire.ParseRequest(h("95 01 92 01 02 a3 61 64 64 00 81 a1 6b a1 76"), &r); err != nil {
		t.Fatalf("decoder broken afterwards: %v", err)
	}
	var pair [2]int
	if err := wire.Unmarshal(r.Data, &pair); err != nil || pair != [2]int{1, 2} || r.Metadata["k"] != "v" {
		t.Fatalf("decoder broken afterwards: %v %v %v", err, pair, r.Metadata)
	}
}

// agree compares the canonical forms of a value before and after a round
// trip; a value with duplicate keys (see canonical) loses one of them.
func agree(before, after string) bool {
	return before == after || strings.Contains(before, "dup-keys")
}

// canonical renders a decoded value so that values equal up to the width
// of their integers compare equal (re-encoding picks the smallest form),
// whatever the order of map keys, with NaN equal to itself.
func canonical(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case rpc.Metadata:
		if x == nil {
			return "nil-map"
		}
		return canonical(map[string]any(x))
	case map[string]any:
		if x == nil {
			return "nil-map"
		}
		keys := make([]string, 0, len(x))
		for k, e := range x {
			keys = append(keys, fmt.Sprintf("%q:%s", k, canonical(e)))
		}
		sort.Strings(keys)
		return fmt.Sprint("{", keys, "}")
	case map[any]any:
		keys := make([]string, 0, len(x))
		seen := make(map[string]bool, len(x))
		for k, e := range x {
			ck := canonical(k)
			if seen[ck] {
				// Two keys that are one MsgPack value in different widths
				// (int8(1) and int16(1)): re-encoding makes them one key,
				// and which value stays depends on the map's order.
				return "dup-keys"
			}
			seen[ck] = true
			keys = append(keys, ck+":"+canonical(e))
		}
		sort.Strings(keys)
		return fmt.Sprint("{", keys, "}")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = canonical(e)
		}
		return fmt.Sprint(parts)
	case float32:
		if math.IsNaN(float64(x)) {
			return "f32:NaN"
		}
		return fmt.Sprintf("f32:%v", math.Float32bits(x))
	case float64:
		if math.IsNaN(x) {
			return "f64:NaN"
		}
		return fmt.Sprintf("f64:%v", math.Float64bits(x))
	case int8, int16, int32, int64, int:
		return fmt.Sprintf("int:%d", x)
	case uint8, uint16, uint32, uint64, uint:
		return fmt.Sprintf("int:%d", x)
	case time.Time:
		return fmt.Sprintf("time:%d", x.UnixNano())
	case string:
		return fmt.Sprintf("str:%q", x)
	case []byte:
		return fmt.Sprintf("bin:%x", x)
	}
	return fmt.Sprintf("%T:%v", v, v)
}

// metadataSeeds are the metadata maps of the request seeds and more:
// every MsgPack type as a value, nested maps and arrays, odd keys.
var metadataSeeds = []string{
	"80",
	"c0",
	"81 a1 6b a1 76",
	"82 a1 61 92 01 a1 62 a1 62 81 a1 63 c3",
	"81 a1 74 d6 ff 00 00 00 01",
	"81 a1 6d 82 01 02 a1 61 c0",
	"81 a1 66 cb 7f f8 00 00 00 00 00 01",
	"81 a1 62 c4 03 01 02 03",
	"81 a1 65 d4 05 01",
	"81 a1 6e 81 a1 6e 81 a1 6e 91 91 c0",
	"81 b0 73 77 69 6c 6c 2d 74 69 6d 65 6f 75 74 2d 6d 73 cd 03 e8",
	"81 01 02",
	"81 c0 02",
	"82 a1 61 01 a1 61 02",
	"de 00 01 a1 6b a1 76",
	"df 00 00 00 01 a1 6b a1 76",
	"df ff ff ff ff",
	"91 01",
}

// FuzzMetadata fuzzes the metadata element of request frames and of both
// metadata elements of response frames: accepted metadata re-encodes to
// the same map, refused metadata fails with a *FrameError, and the
// decoders keep working.
func FuzzMetadata(f *testing.F) {
	for _, s := range metadataSeeds {
		f.Add(h(s))
	}
	f.Fuzz(func(t *testing.T, md []byte) {
		defer checkStillWorks(t)
		check := func(what string, err error) bool {
			if err == nil {
				return true
			}
			var fe *wire.FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("%s: error of type %T: %v", what, err, err)
			}
			return false
		}
		var r wire.Request
		if check("request", wire.ParseRequest(cat(h("95 01 c0 a1 78 00"), md), &r)) {
			b := wire.GetBuffer()
			defer wire.PutBuffer(b)
			enc := wire.GetEncoder()
			defer wire.PutEncoder(enc)
			if err := enc.Request(b, 1, "x", wire.TypeMessage, wire.RawMessage(h("c0")), r.Metadata); err != nil {
				t.Fatalf("re-encoding metadata %v: %v", r.Metadata, err)
			}
			var again wire.Request
			if err := wire.ParseRequest(b.B, &again); err != nil {
				t.Fatalf("decoding re-encoded metadata % x: %v", b.B, err)
			}
			if !agree(canonical(r.Metadata), canonical(again.Metadata)) {
				t.Fatalf("round trip changed the metadata: %s, then %s", canonical(r.Metadata), canonical(again.Metadata))
			}
		}
		var leading, trailing wire.Response
		if check("leading", wire.ParseResponse(cat(h("95 01 c0 00"), md, h("c0")), &leading)) &&
			check("trailing", wire.ParseResponse(cat(h("95 01 c0 00 c0"), md), &trailing)) {
			if canonical(leading.Leading) != canonical(trailing.Trailing) {
				t.Fatalf("leading %s and trailing %s differ", canonical(leading.Leading), canonical(trailing.Trailing))
			}
		}
	})
}

// tree is a recursive type: it has no decoding plan, so the MsgPack
// library decodes it.
type tree struct {
	V    any              `msgpack:"v"`
	Kids []*tree          `msgpack:"kids"`
	ByID map[int64]*tree  `msgpack:"by"`
	Tags map[string][]any `msgpack:"tags"`
	At   time.Time        `msgpack:"at"`
	Bin  []byte           `msgpack:"bin"`
	Pair [2]uint8         `msgpack:"pair"`
	F    float32          `msgpack:"f"`
}

// FuzzUnmarshal decodes arbitrary payloads into types of every shape, as a
// handler's request type or a client's response type receives them: into
// fresh values (plans where the type has one, the library's path where it
// has none) and into values that already hold data (merged into by the
// library). No input may panic, and a value decoded re-encodes.
func FuzzUnmarshal(f *testing.F) {
	for _, v := range []any{
		nil, 1, -1, 1.5, "s", []byte("b"), true, time.Unix(1, 2),
		[]any{1, "a", nil}, map[string]any{"v": 1, "kids": []any{map[string]any{"v": "x"}}},
		map[string]any{"by": map[int]any{1: map[string]any{"v": nil}}, "tags": map[string]any{"a": []any{1}}},
		map[string]any{"at": time.Unix(5, 0), "bin": []byte{1}, "pair": []int{1, 300}, "f": 1e300},
		map[string]any{"name": "n", "email": "e", "age": 3},
		map[any]any{1: 2, nil: 3, "x": []any{}},
	} {
		b, err := wire.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(cat(bytes.Repeat(h("81 a4 6b 69 64 73 91"), wire.MaxDepth/2), h("c0")))
	f.Fuzz(func(t *testing.T, data []byte) {
		targets := []func() any{
			func() any { return new(any) },
			func() any { return new(tree) },
			func() any { return new(*tree) },
			func() any { return new(signup) },
			func() any { return new([]signup) },
			func() any { return new(map[string]signup) },
			func() any { return new(map[int8]string) },
			func() any { return new([]any) },
			func() any { return new(map[string]any) },
			func() any { return new([3]int16) },
			func() any { return new(uint32) },
			func() any { return new(string) },
			func() any { return new([]byte) },
			func() any { return new(time.Time) },
			func() any { return new(rpc.Metadata) },
			func() any { // already holds data: merged into
				v := &tree{V: map[string]any{"k": []any{1}}, Kids: []*tree{{V: 1}}, ByID: map[int64]*tree{1: {}}, Tags: map[string][]any{"a": {map[string]any{}}}}
				return v
			},
			func() any {
				v := []any{map[string]any{"a": 1}, []any{2}}
				return &v
			},
			func() any {
				v := map[string]any{"a": []any{map[string]any{}}}
				return &v
			},
		}
		for _, mk := range targets {
			v := mk()
			if err := wire.Unmarshal(data, v); err != nil {
				continue
			}
			if _, err := wire.Marshal(v); err != nil {
				t.Fatalf("%T decoded from % x does not re-encode: %v", v, data, err)
			}
		}
		checkStillWorks(t)
	})
}
