package wsconn

import (
	"encoding/binary"
	"errors"

	"github.com/gobwas/ws"
)

// MaxHeaderSize is the longest frame header: 2 bytes, a 64-bit length and
// a mask.
const MaxHeaderSize = ws.MaxHeaderSize

// maxControlPayload is the largest payload of a control frame.
const maxControlPayload = 125

var errLengthOverflow = errors.New("frame length overflows 63 bits")

// ParseHeader decodes the frame header at the start of b. n is the
// header's length in bytes, or 0 when b does not hold all of it yet. It
// allocates nothing, unlike ws.ReadHeader, which reads through an
// io.Reader.
func ParseHeader(b []byte) (h ws.Header, n int, err error) {
	if len(b) < 2 {
		return h, 0, nil
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = (b[0] & 0x70) >> 4
	h.OpCode = ws.OpCode(b[0] & 0x0f)
	h.Masked = b[1]&0x80 != 0
	n = 2
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < 4 {
			return h, 0, nil
		}
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		n = 4
	case 127:
		if len(b) < 10 {
			return h, 0, nil
		}
		u := binary.BigEndian.Uint64(b[2:10])
		if u>>63 != 0 {
			return h, 0, errLengthOverflow
		}
		h.Length = int64(u)
		n = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, nil
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	return h, n, nil
}

// AppendHeader appends the header of a final frame with opcode op and a
// payload of length bytes, masked with mask when it is not nil.
func AppendHeader(b []byte, op ws.OpCode, length int, mask *[4]byte) []byte {
	b0 := 0x80 | byte(op)
	var mbit byte
	if mask != nil {
		mbit = 0x80
	}
	switch {
	case length <= 125:
		b = append(b, b0, mbit|byte(length))
	case length <= 0xffff:
		b = append(b, b0, mbit|126)
		b = binary.BigEndian.AppendUint16(b, uint16(length))
	default:
		b = append(b, b0, mbit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(length))
	}
	if mask != nil {
		b = append(b, mask[:]...)
	}
	return b
}

// validCloseCode reports whether code may appear in a received close
// frame (RFC 6455 section 7.4, with the IANA-registered 1012-1014).
func validCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
