package wsconn

import (
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
