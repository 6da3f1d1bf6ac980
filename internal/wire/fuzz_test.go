package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sort"
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
		if got, want := canonical(again.Metadata), canonical(md); got != want {
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
		if canonical(again.Leading) != canonical(r.Leading) || canonical(again.Trailing) != canonical(r.Trailing) {
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
		for k, e := range x {
			keys = append(keys, canonical(k)+":"+canonical(e))
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
