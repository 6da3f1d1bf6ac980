package wstest

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/swillorg/swill-go/transport"
)

// Dial opens a TCP connection to host (host:port), sends an upgrade
// request for path "/" offering subprotocol swill.v1, followed in the same
// write by extra, and returns the connection once the 101 response has
// been read. Nothing after the response is consumed.
func Dial(host string, extra []byte) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", host, 10*time.Second)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 16)
	rand.Read(key)
	req := fmt.Appendf(nil, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Protocol: swill.v1\r\n\r\n",
		host, base64.StdEncoding.EncodeToString(key))
	if _, err := c.Write(append(req, extra...)); err != nil {
		c.Close()
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReaderSize(oneByteReader{c}, 16), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.SetReadDeadline(time.Time{})
	if resp.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, fmt.Errorf("wstest: upgrade answered %s", resp.Status)
	}
	return c, nil
}

// oneByteReader reads one byte at a time, so that a bufio.Reader on it
// never reads past what its user consumes.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

// Masked returns a client frame with a payload of at most 125 bytes. b0
// is the first header byte: FIN, RSV bits and opcode.
func Masked(b0 byte, payload []byte) []byte {
	if len(payload) > 125 {
		panic("wstest: Masked builds short frames only")
	}
	frame := []byte{b0, 0x80 | byte(len(payload)), 0x37, 0xfa, 0x21, 0x3d}
	for i, c := range payload {
		frame = append(frame, c^frame[2+i%4])
	}
	return frame
}

// MaskedLarge returns a client frame with a payload of any length.
func MaskedLarge(b0 byte, payload []byte) []byte {
	frame := []byte{b0}
	switch n := len(payload); {
	case n <= 125:
		frame = append(frame, 0x80|byte(n))
	case n <= 0xffff:
		frame = append(frame, 0x80|126)
		frame = binary.BigEndian.AppendUint16(frame, uint16(n))
	default:
		frame = append(frame, 0x80|127)
		frame = binary.BigEndian.AppendUint64(frame, uint64(n))
	}
	key := []byte{0x37, 0xfa, 0x21, 0x3d}
	frame = append(frame, key...)
	for i, c := range payload {
		frame = append(frame, c^key[i%4])
	}
	return frame
}

// ReadFrame reads one unmasked frame and returns its first header byte
// and its payload.
func ReadFrame(r io.Reader) (b0 byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if h[1]&0x80 != 0 {
		return 0, nil, fmt.Errorf("wstest: masked frame from the server")
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return h[0], payload, nil
}

// ReadClose reads frames until a close frame and returns its code and
// reason, 1005 when it carries none.
func ReadClose(r io.Reader) (transport.StatusCode, string, error) {
	for {
		b0, p, err := ReadFrame(r)
		if err != nil {
			return 0, "", err
		}
		if b0&0x0f != 0x8 {
			continue
		}
		if len(p) < 2 {
			return transport.StatusNoStatus, "", nil
		}
		return transport.StatusCode(binary.BigEndian.Uint16(p)), string(p[2:]), nil
	}
}
