//go:build !linux

package epoll

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/swillorg/swill-go/transport"
)

type acceptorState struct{}

// Accept fails on this platform: epoll is Linux-only. It answers 501.
func (a *Acceptor) Accept(w http.ResponseWriter, r *http.Request, opts *transport.AcceptOptions) (transport.Conn, error) {
	err := fmt.Errorf("epoll: the event-driven transport needs Linux: %w", errors.ErrUnsupported)
	http.Error(w, err.Error(), http.StatusNotImplemented)
	return nil, err
}
