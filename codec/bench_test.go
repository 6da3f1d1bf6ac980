package codec_test

import (
	"testing"

	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
)

func BenchmarkParseRequest(b *testing.B) {
	frames := []struct{ name, hex string }{
		{"message", "93 01 92 01 02 a3 61 64 64"},
		{"message_metadata", "95 01 92 01 02 a3 61 64 64 00 81 b0 73 77 69 6c 6c 2d 74 69 6d 65 6f 75 74 2d 6d 73 cd 03 e8"},
		{"end_of_stream", "94 07 c0 a3 73 75 6d 01"},
		{"metadata", "95 07 c0 a3 73 75 6d 02 81 a1 6b a1 76"},
		{"cancel", "94 07 c0 a5 73 6c 65 65 70 03"},
	}
	for _, f := range frames {
		in := h(f.hex)
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			var r wire.Request
			for i := 0; i < b.N; i++ {
				if err := wire.ParseRequest(in, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseResponse(b *testing.B) {
	frames := []struct{ name, hex string }{
		{"message", "95 01 03 00 c0 c0"},
		{"end_of_stream_trailing", "95 01 c0 01 c0 81 a5 74 6f 74 61 6c 03"},
		{"metadata", "95 04 c0 02 81 a1 78 a1 79 c0"},
		{"error", "95 01 82 a4 63 6f 64 65 cd 01 94 a7 6d 65 73 73 61 67 65 a1 78 03 c0 c0"},
	}
	for _, f := range frames {
		in := h(f.hex)
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			var r wire.Response
			for i := 0; i < b.N; i++ {
				if err := wire.ParseResponse(in, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeResponse(b *testing.B) {
	type user struct {
		ID   string `msgpack:"id"`
		Name string `msgpack:"name"`
	}
	cases := []struct {
		name              string
		typ               wire.FrameType
		data              any
		leading, trailing rpc.Metadata
	}{
		{"message_int", wire.TypeMessage, 3, nil, nil},
		{"message_struct", wire.TypeMessage, user{"u1", "Alice"}, nil, nil},
		{"message_leading_trailing", wire.TypeMessage, 3, rpc.Metadata{"hello": "world"}, rpc.Metadata{"bye": "world"}},
		{"end_of_stream_trailing", wire.TypeEndOfStream, nil, nil, rpc.Metadata{"total": 3}},
		{"metadata", wire.TypeMetadata, nil, rpc.Metadata{"x": "y"}, nil},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			enc := wire.GetEncoder()
			defer wire.PutEncoder(enc)
			for i := 0; i < b.N; i++ {
				buf := wire.GetBuffer()
				if err := enc.Response(buf, int64(i), tc.typ, tc.data, tc.leading, tc.trailing); err != nil {
					b.Fatal(err)
				}
				wire.PutBuffer(buf)
			}
		})
	}
}

func BenchmarkEncodeError(b *testing.B) {
	e := rpc.NewError(rpc.CodeNotFound, `no handler named "nope"`)
	b.ReportAllocs()
	enc := wire.GetEncoder()
	defer wire.PutEncoder(enc)
	for i := 0; i < b.N; i++ {
		buf := wire.GetBuffer()
		enc.Error(buf, int64(i), e)
		wire.PutBuffer(buf)
	}
}

func BenchmarkEncodeRequest(b *testing.B) {
	cases := []struct {
		name string
		typ  wire.FrameType
		data any
		md   rpc.Metadata
	}{
		{"message", wire.TypeMessage, [2]int{1, 2}, nil},
		{"end_of_stream", wire.TypeEndOfStream, nil, nil},
		{"metadata", wire.TypeMetadata, nil, rpc.Metadata{"k": "v"}},
		{"cancel", wire.TypeCancel, nil, nil},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			enc := wire.GetEncoder()
			defer wire.PutEncoder(enc)
			for i := 0; i < b.N; i++ {
				buf := wire.GetBuffer()
				if err := enc.Request(buf, int64(i), "add", tc.typ, tc.data, tc.md); err != nil {
					b.Fatal(err)
				}
				wire.PutBuffer(buf)
			}
		})
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	b.Run("pair", func(b *testing.B) {
		in := h("92 01 02")
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var v [2]int
			if err := codec.Unmarshal(in, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("struct", func(b *testing.B) {
		in := h("83 a3 61 67 65 1e a5 65 6d 61 69 6c a3 61 40 62 a4 6e 61 6d 65 a2 41 6c")
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var v signup
			if err := codec.Unmarshal(in, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("any", func(b *testing.B) {
		in := h("83 a3 61 67 65 1e a5 65 6d 61 69 6c a3 61 40 62 a4 6e 61 6d 65 a2 41 6c")
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var v any
			if err := codec.Unmarshal(in, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
