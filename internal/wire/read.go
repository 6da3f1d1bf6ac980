package wire

import (
	"errors"
	"fmt"
	"math"

	"github.com/swillorg/swill-go/rpc"
)

// errShort is returned by the readers when the input ends mid-value.
var errShort = errors.New("unexpected end of input")

// ParseRequest decodes a request frame into r. r's slices alias b.
// A frame that breaks the protocol yields a [*FrameError].
func ParseRequest(b []byte, r *Request) error {
	n, p, err := readArrayLen(b, 0)
	if err != nil {
		return &FrameError{Reason: "not a MsgPack array"}
	}
	if n < 3 {
		fe := &FrameError{Reason: fmt.Sprintf("request frame has %d elements, want 3 to 5", n)}
		if n >= 1 {
			fe.Seq, _, fe.HasSeq = readIntOK(b, p)
		}
		return fe
	}
	seq, p, err := readInt(b, p)
	if err != nil {
		return &FrameError{Reason: "seq is not an integer"}
	}
	r.Seq = seq
	start := p
	if p, err = skip(b, p); err != nil {
		return &FrameError{Seq: seq, HasSeq: true, Reason: "data: " + err.Error()}
	}
	r.Data = b[start:p:p]
	rpcName, p, err := readStr(b, p)
	if err != nil {
		return &FrameError{Seq: seq, HasSeq: true, Reason: "rpc is not a string"}
	}
	r.RPC = rpcName
	r.Type = TypeMessage
	r.Metadata = nil
	if n >= 4 {
		var t int64
		t, p, err = readInt(b, p)
		if err != nil || t < 0 || t > int64(TypeCancel) {
			return &FrameError{Seq: seq, HasSeq: true, RPC: string(rpcName), Reason: "type must be 0 (MESSAGE), 1 (END_OF_STREAM), 2 (METADATA) or 3 (CANCEL)"}
		}
		r.Type = FrameType(t)
	}
	if n >= 5 {
		md, _, err := readMetadata(b, p)
		if err != nil {
			return &FrameError{Seq: seq, HasSeq: true, RPC: string(rpcName), Reason: "metadata: " + err.Error()}
		}
		r.Metadata = md
	}
	// Elements after the fifth are ignored, as the reference does.
	return nil
}

// ParseResponse decodes a response frame into r. r.Data aliases b.
// Frames of 2 to 5 elements are accepted; absent elements take their
// defaults (type MESSAGE, no metadata).
func ParseResponse(b []byte, r *Response) error {
	n, p, err := readArrayLen(b, 0)
	if err != nil {
		return &FrameError{Reason: "not a MsgPack array"}
	}
	if n < 2 {
		return &FrameError{Reason: fmt.Sprintf("response frame has %d elements, want 2 to 5", n)}
	}
	seq, p, err := readInt(b, p)
	if err != nil {
		return &FrameError{Reason: "seq is not an integer"}
	}
	r.Seq = seq
	start := p
	if p, err = skip(b, p); err != nil {
		return &FrameError{Seq: seq, HasSeq: true, Reason: "data: " + err.Error()}
	}
	r.Data = b[start:p:p]
	r.Type, r.Leading, r.Trailing = TypeMessage, nil, nil
	if n >= 3 {
		var t int64
		if t, p, err = readIntOrNil(b, p); err != nil || t < 0 || t > int64(TypeError) {
			return &FrameError{Seq: seq, HasSeq: true, Reason: "type must be 0 to 3"}
		}
		r.Type = FrameType(t)
	}
	if n >= 4 {
		if r.Leading, p, err = readMetadata(b, p); err != nil {
			return &FrameError{Seq: seq, HasSeq: true, Reason: "leading metadata: " + err.Error()}
		}
	}
	if n >= 5 {
		if r.Trailing, _, err = readMetadata(b, p); err != nil {
			return &FrameError{Seq: seq, HasSeq: true, Reason: "trailing metadata: " + err.Error()}
		}
	}
	return nil
}

// DecodeError decodes the payload of an ERROR frame.
func DecodeError(data []byte) (*rpc.Error, error) {
	var w struct {
		Code    int64  `msgpack:"code"`
		Message string `msgpack:"message"`
		Data    any    `msgpack:"data"`
	}
	if err := Unmarshal(data, &w); err != nil {
		return nil, err
	}
	return rpc.NewWireError(rpc.Code(w.Code), w.Message, w.Data), nil
}

func readMetadata(b []byte, p int) (rpc.Metadata, int, error) {
	if p >= len(b) {
		return nil, p, errShort
	}
	if b[p] == 0xc0 {
		return nil, p + 1, nil
	}
	start := p
	end, err := skip(b, p)
	if err != nil {
		return nil, p, err
	}
	if c := b[start]; !(c >= 0x80 && c <= 0x8f) && c != 0xde && c != 0xdf {
		return nil, p, errors.New("not a map")
	}
	var md map[string]any
	if err := unmarshalMetadata(b[start:end], &md); err != nil {
		return nil, p, errors.New("keys must be strings")
	}
	if md == nil {
		md = map[string]any{}
	}
	return md, end, nil
}

func readArrayLen(b []byte, p int) (int, int, error) {
	return readLen(b, p, 0x90, 0xdc, 0xdd, "not an array")
}

func readMapLen(b []byte, p int) (int, int, error) {
	return readLen(b, p, 0x80, 0xde, 0xdf, "not a map")
}

// readLen reads the header of an array or map: fix holds the high nibble
// of its fixed form, c16 and c32 are its 16 and 32-bit codes.
func readLen(b []byte, p int, fix, c16, c32 byte, what string) (int, int, error) {
	if p >= len(b) {
		return 0, p, errShort
	}
	c := b[p]
	switch {
	case c&0xf0 == fix:
		return int(c & 0x0f), p + 1, nil
	case c == c16:
		if p+3 > len(b) {
			return 0, p, errShort
		}
		return int(b[p+1])<<8 | int(b[p+2]), p + 3, nil
	case c == c32:
		if p+5 > len(b) {
			return 0, p, errShort
		}
		return int(uint32(b[p+1])<<24 | uint32(b[p+2])<<16 | uint32(b[p+3])<<8 | uint32(b[p+4])), p + 5, nil
	}
	return 0, p, errors.New(what)
}

func readIntOK(b []byte, p int) (int64, int, bool) {
	v, p, err := readInt(b, p)
	return v, p, err == nil
}

func readIntOrNil(b []byte, p int) (int64, int, error) {
	if p < len(b) && b[p] == 0xc0 {
		return 0, p + 1, nil
	}
	return readInt(b, p)
}

// readInt reads any MsgPack integer that fits in an int64.
func readInt(b []byte, p int) (int64, int, error) {
	if p >= len(b) {
		return 0, p, errShort
	}
	c := b[p]
	if c <= 0x7f {
		return int64(c), p + 1, nil
	}
	if c >= 0xe0 {
		return int64(int8(c)), p + 1, nil
	}
	size := 0
	switch c {
	case 0xcc, 0xd0:
		size = 1
	case 0xcd, 0xd1:
		size = 2
	case 0xce, 0xd2:
		size = 4
	case 0xcf, 0xd3:
		size = 8
	default:
		return 0, p, errors.New("not an integer")
	}
	if p+1+size > len(b) {
		return 0, p, errShort
	}
	var u uint64
	for _, x := range b[p+1 : p+1+size] {
		u = u<<8 | uint64(x)
	}
	p += 1 + size
	switch c {
	case 0xcc, 0xcd, 0xce:
		return int64(u), p, nil
	case 0xcf:
		if u > math.MaxInt64 {
			return 0, p, errors.New("integer overflows int64")
		}
		return int64(u), p, nil
	case 0xd0:
		return int64(int8(u)), p, nil
	case 0xd1:
		return int64(int16(u)), p, nil
	case 0xd2:
		return int64(int32(u)), p, nil
	}
	return int64(u), p, nil
}

// readStr reads a MsgPack str and returns its bytes (aliasing b).
func readStr(b []byte, p int) ([]byte, int, error) {
	if p >= len(b) {
		return nil, p, errShort
	}
	c := b[p]
	var n, h int
	switch {
	case c >= 0xa0 && c <= 0xbf:
		n, h = int(c&0x1f), 1
	case c == 0xd9:
		if p+2 > len(b) {
			return nil, p, errShort
		}
		n, h = int(b[p+1]), 2
	case c == 0xda:
		if p+3 > len(b) {
			return nil, p, errShort
		}
		n, h = int(b[p+1])<<8|int(b[p+2]), 3
	case c == 0xdb:
		if p+5 > len(b) {
			return nil, p, errShort
		}
		n, h = int(uint32(b[p+1])<<24|uint32(b[p+2])<<16|uint32(b[p+3])<<8|uint32(b[p+4])), 5
	default:
		return nil, p, errors.New("not a string")
	}
	end := p + h + n
	if end > len(b) || end < p {
		return nil, p, errShort
	}
	return b[p+h : end : end], end, nil
}

// MaxDepth is the deepest nesting of arrays and maps accepted in a frame.
// The MsgPack decoder recurses once per level, so a frame of a million
// nested one-element arrays (a mere megabyte) would otherwise make it grow
// a goroutine stack of hundreds of megabytes, and a few megabytes of them
// crash the process.
const MaxDepth = 512

var errTooDeep = fmt.Errorf("arrays and maps nested deeper than %d levels", MaxDepth)

// skip returns the offset just past the MsgPack value starting at p. It
// walks nested values iteratively and rejects declared lengths the input
// cannot hold and nesting deeper than MaxDepth, so that the values it
// accepts are safe to give to the decoder.
func skip(b []byte, p int) (int, error) {
	pending := 1 // values still to read, at every level
	var small [16]int
	open := small[:0] // values left in each enclosing container
	left := 1         // values left at the current level
	for pending > 0 {
		if p >= len(b) {
			return p, errShort
		}
		for left == 0 {
			left, open = open[len(open)-1], open[:len(open)-1]
		}
		pending--
		left--
		c := b[p]
		var body, items int // bytes of payload after the header, nested values
		h := 1
		switch {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		case c >= 0x80 && c <= 0x8f:
			items = 2 * int(c&0x0f)
		case c >= 0x90 && c <= 0x9f:
			items = int(c & 0x0f)
		case c >= 0xa0 && c <= 0xbf:
			body = int(c & 0x1f)
		default:
			var lenBytes int
			switch c {
			case 0xcc, 0xd0:
				body = 1
			case 0xcd, 0xd1:
				body = 2
			case 0xca, 0xce, 0xd2:
				body = 4
			case 0xcb, 0xcf, 0xd3:
				body = 8
			case 0xd4:
				body = 2
			case 0xd5:
				body = 3
			case 0xd6:
				body = 5
			case 0xd7:
				body = 9
			case 0xd8:
				body = 17
			case 0xc4, 0xd9:
				lenBytes = 1
			case 0xc5, 0xda, 0xdc, 0xde:
				lenBytes = 2
			case 0xc6, 0xdb, 0xdd, 0xdf:
				lenBytes = 4
			case 0xc7:
				lenBytes, body = 1, 1
			case 0xc8:
				lenBytes, body = 2, 1
			case 0xc9:
				lenBytes, body = 4, 1
			default:
				return p, errors.New("invalid MsgPack code")
			}
			if lenBytes > 0 {
				if p+1+lenBytes > len(b) {
					return p, errShort
				}
				var n uint64
				for _, x := range b[p+1 : p+1+lenBytes] {
					n = n<<8 | uint64(x)
				}
				h += lenBytes
				if n > uint64(len(b)) {
					return p, errShort
				}
				switch c {
				case 0xdc, 0xdd:
					items = int(n)
				case 0xde, 0xdf:
					items = 2 * int(n)
				default:
					body += int(n)
				}
			}
		}
		p += h + body
		if p > len(b) {
			return p, errShort
		}
		if items > 0 {
			if len(open) == MaxDepth {
				return p, errTooDeep
			}
			open = append(open, left)
			left = items
		}
		pending += items
		if pending > len(b)-p {
			return p, errShort
		}
	}
	return p, nil
}
