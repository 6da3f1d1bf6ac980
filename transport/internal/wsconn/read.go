package wsconn

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
)

// ReadError describes why reading from nc stopped.
func ReadError(err error) error {
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("transport: connection closed by the peer without a close frame: %w", io.ErrUnexpectedEOF)
	case errors.Is(err, net.ErrClosed):
		return fmt.Errorf("transport: connection aborted: %w", err)
	}
	return fmt.Errorf("transport: read: %w", err)
}

// NewReader returns a reader of nc with a buffer of size bytes that first
// returns pre, bytes already read from nc. It reads nc directly: a
// reader handed over by an HTTP server (after a hijack) or by a released
// reader (see transport.Releaser) gives its buffered bytes as pre.
func NewReader(pre []byte, nc net.Conn, size int) *bufio.Reader {
	if len(pre) == 0 {
		return bufio.NewReaderSize(nc, size)
	}
	return bufio.NewReaderSize(&prefixReader{pre: append([]byte(nil), pre...), nc: nc}, size)
}

// Buffered returns the bytes br holds, without reading.
func Buffered(br *bufio.Reader) []byte {
	if br == nil || br.Buffered() == 0 {
		return nil
	}
	b, _ := br.Peek(br.Buffered())
	return b
}

// prefixReader returns pre, then reads nc.
type prefixReader struct {
	pre []byte
	nc  net.Conn
}

func (r *prefixReader) Read(p []byte) (int, error) {
	if len(r.pre) > 0 {
		n := copy(p, r.pre)
		r.pre = r.pre[n:]
		return n, nil
	}
	return r.nc.Read(p)
}
