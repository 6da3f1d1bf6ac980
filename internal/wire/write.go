package wire

import (
	"math"
	"sync"

	"github.com/swillorg/swill-go/rpc"
	"github.com/vmihailenco/msgpack/v5"
)

// Encoder writes whole frames, payload included, into a [Buffer]. An
// Encoder is not safe for concurrent use; take one per goroutine from
// [GetEncoder].
type Encoder struct {
	w     *Buffer
	enc   *msgpack.Encoder
	types typeCache
}

var encoderPool = sync.Pool{New: func() any {
	e := &Encoder{}
	e.enc = msgpack.NewEncoder(nil)
	configureEncoder(e.enc)
	return e
}}

// GetEncoder returns an Encoder from the pool.
func GetEncoder() *Encoder { return encoderPool.Get().(*Encoder) }

// PutEncoder returns e to the pool.
func PutEncoder(e *Encoder) {
	e.w = nil
	e.enc.ResetWriter(nil)
	encoderPool.Put(e)
}

func (e *Encoder) use(b *Buffer) {
	if e.w != b {
		e.w = b
		e.enc.ResetWriter(b)
	}
}

// Response appends the response frame [seq, data, typ, leading, trailing]
// to b; all five elements are always written, as the reference does. A
// nil data is written as nil. If data cannot be encoded, b is left as it
// was and the error is returned.
func (e *Encoder) Response(b *Buffer, seq int64, typ FrameType, data any, leading, trailing rpc.Metadata) error {
	e.use(b)
	start := len(b.B)
	b.B = append(b.B, 0x95)
	b.B = appendInt(b.B, seq)
	if data == nil {
		b.B = append(b.B, 0xc0)
	} else if err := e.encode(data); err != nil {
		b.B = b.B[:start]
		return err
	}
	b.B = append(b.B, byte(typ))
	if err := e.metadata(leading); err != nil {
		b.B = b.B[:start]
		return err
	}
	if err := e.metadata(trailing); err != nil {
		b.B = b.B[:start]
		return err
	}
	return nil
}

// RawResponse appends the response frame [seq, raw, typ, nil, nil] to b,
// where raw is an already encoded MsgPack value written unchanged: the
// frame of one value shared by many connections costs a copy, not an
// encoding. raw must hold exactly one well-formed MsgPack value.
func RawResponse(b *Buffer, seq int64, typ FrameType, raw []byte) {
	b.B = append(b.B, 0x95)
	b.B = appendInt(b.B, seq)
	b.B = append(b.B, raw...)
	b.B = append(b.B, byte(typ), 0xc0, 0xc0)
}

// Error appends the ERROR frame for err to b:
// [seq, {"code": c, "message": m[, "data": d]}, 3, nil, trailing], where
// trailing is err.Metadata (nil when it has none). If err.Data or
// err.Metadata cannot be encoded the frame is written without it.
func (e *Encoder) Error(b *Buffer, seq int64, err *rpc.Error) {
	e.use(b)
	start := len(b.B)
	for attempt := 0; attempt < 3; attempt++ {
		withData := err.Data != nil && attempt == 0
		withMD := err.Metadata != nil && attempt < 2
		b.B = append(b.B, 0x95)
		b.B = appendInt(b.B, seq)
		if withData {
			b.B = append(b.B, 0x83)
		} else {
			b.B = append(b.B, 0x82)
		}
		b.B = appendStr(b.B, "code")
		b.B = appendInt(b.B, int64(err.Code))
		b.B = appendStr(b.B, "message")
		b.B = appendStr(b.B, err.Message)
		if withData {
			b.B = appendStr(b.B, "data")
			if e.encode(err.Data) != nil {
				b.B = b.B[:start]
				continue
			}
		}
		b.B = append(b.B, byte(TypeError), 0xc0)
		if !withMD {
			b.B = append(b.B, 0xc0)
			return
		}
		if e.metadata(err.Metadata) != nil {
			b.B = b.B[:start]
			continue
		}
		return
	}
}

// Request appends a request frame to b in the reference client's compact
// form: [seq, data, rpc] for a plain message, [seq, data, rpc, type] when
// the type is not MESSAGE, and all five elements when md is not nil.
func (e *Encoder) Request(b *Buffer, seq int64, rpcName string, typ FrameType, data any, md rpc.Metadata) error {
	e.use(b)
	start := len(b.B)
	n := byte(3)
	if md != nil {
		n = 5
	} else if typ != TypeMessage {
		n = 4
	}
	b.B = append(b.B, 0x90|n)
	b.B = appendInt(b.B, seq)
	if data == nil {
		b.B = append(b.B, 0xc0)
	} else if err := e.encode(data); err != nil {
		b.B = b.B[:start]
		return err
	}
	b.B = appendStr(b.B, rpcName)
	if n >= 4 {
		b.B = append(b.B, byte(typ))
	}
	if n == 5 {
		if err := e.metadata(md); err != nil {
			b.B = b.B[:start]
			return err
		}
	}
	return nil
}

// Value appends the MsgPack encoding of v to b.
func (e *Encoder) Value(b *Buffer, v any) error {
	e.use(b)
	start := len(b.B)
	if err := e.encode(v); err != nil {
		b.B = b.B[:start]
		return err
	}
	return nil
}

// encode writes v with the keys of its maps sorted.
func (e *Encoder) encode(v any) error {
	if encodePlanned(e.w, v, e.types.planFor(v)) {
		return nil
	}
	return e.enc.Encode(v)
}

func (e *Encoder) metadata(md rpc.Metadata) error {
	if md == nil {
		e.w.B = append(e.w.B, 0xc0)
		return nil
	}
	return e.enc.EncodeMapSorted(md)
}

func appendInt(b []byte, n int64) []byte {
	switch {
	case n >= 0 && n <= 0x7f:
		return append(b, byte(n))
	case n >= -32 && n < 0:
		return append(b, byte(int8(n)))
	case n >= 0 && n <= math.MaxUint8:
		return append(b, 0xcc, byte(n))
	case n >= 0 && n <= math.MaxUint16:
		return append(b, 0xcd, byte(n>>8), byte(n))
	case n >= 0 && n <= math.MaxUint32:
		return append(b, 0xce, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	case n >= 0:
		return append(b, 0xcf, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	case n >= math.MinInt8:
		return append(b, 0xd0, byte(n))
	case n >= math.MinInt16:
		return append(b, 0xd1, byte(n>>8), byte(n))
	case n >= math.MinInt32:
		return append(b, 0xd2, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, 0xd3, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func appendStr(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n <= 31:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = append(b, 0xda, byte(n>>8), byte(n))
	default:
		b = append(b, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, s...)
}
