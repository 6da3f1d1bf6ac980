package wsconn

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
)

func TestHeaderRoundTrip(t *testing.T) {
	mask := [4]byte{1, 2, 3, 4}
	for _, length := range []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 40} {
		for _, m := range []*[4]byte{nil, &mask} {
			for _, op := range []ws.OpCode{ws.OpBinary, ws.OpText, ws.OpClose, ws.OpPing} {
				b := AppendHeader(nil, op, length, m)
				h, n, err := ParseHeader(b)
				if err != nil || n != len(b) {
					t.Fatalf("length %d: ParseHeader = %d, %v; want %d, nil", length, n, err, len(b))
				}
				want := ws.Header{Fin: true, OpCode: op, Length: int64(length), Masked: m != nil}
				if m != nil {
					want.Mask = *m
				}
				if h != want {
					t.Errorf("length %d: got %+v, want %+v", length, h, want)
				}
				// gobwas/ws agrees on the encoding.
				if gh, err := ws.ReadHeader(bytes.NewReader(b)); err != nil || gh != want {
					t.Errorf("length %d: ws.ReadHeader = %+v, %v", length, gh, err)
				}
				for i := 0; i < len(b); i++ {
					if _, n, err := ParseHeader(b[:i]); n != 0 || err != nil {
						t.Fatalf("length %d: %d of %d header bytes parsed as complete (%d, %v)", length, i, len(b), n, err)
					}
				}
			}
		}
	}
}

func TestParseHeaderBits(t *testing.T) {
	h, n, err := ParseHeader([]byte{0x70 | 0x9, 0x05})
	if err != nil || n != 2 {
		t.Fatalf("ParseHeader = %d, %v", n, err)
	}
	if h.Fin || h.Rsv != 7 || h.OpCode != ws.OpPing || h.Masked || h.Length != 5 {
		t.Errorf("got %+v", h)
	}
	if _, _, err := ParseHeader([]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}); err == nil {
		t.Error("a 64-bit length with its top bit set was accepted")
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0x82, 0x85, 1, 2, 3, 4})
	f.Add([]byte{0x81, 126, 0, 200})
	f.Add([]byte{0x02, 127, 0, 0, 0, 0, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b)
		if err != nil || n == 0 {
			return
		}
		if n > len(b) || n > MaxHeaderSize || h.Length < 0 {
			t.Fatalf("ParseHeader(% x) = %+v, %d", b, h, n)
		}
		gh, gerr := ws.ReadHeader(bytes.NewReader(b))
		if gerr != nil || gh != h {
			t.Fatalf("ParseHeader(% x) = %+v; ws.ReadHeader = %+v, %v", b, h, gh, gerr)
		}
	})
}

func TestValidCloseCode(t *testing.T) {
	for code, want := range map[uint16]bool{
		0: false, 999: false, 1000: true, 1001: true, 1003: true, 1004: false, 1005: false,
		1006: false, 1007: true, 1011: true, 1014: true, 1015: false, 2999: false,
		3000: true, 4999: true, 5000: false,
	} {
		if got := validCloseCode(code); got != want {
			t.Errorf("validCloseCode(%d) = %v", code, got)
		}
	}
}

func TestTruncateReason(t *testing.T) {
	short := "fine"
	if got := truncateReason(short); got != short {
		t.Errorf("truncateReason(%q) = %q", short, got)
	}
	long := string(bytes.Repeat([]byte("é"), 100)) // 200 bytes
	got := truncateReason(long)
	if len(got) != 122 || got != long[:122] {
		t.Errorf("truncateReason cut %d bytes to %d (%q)", len(long), len(got), got)
	}
}
