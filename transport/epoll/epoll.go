package epoll

import (
	"sync"
	"time"

	"github.com/swillorg/swill-go/transport"
)

// Acceptor is a [transport.Acceptor] that reads every connection through
// one epoll instance. Its zero value is ready to use; it must not be
// copied after first use, so pass a pointer.
type Acceptor struct {
	// Workers is the number of goroutines that read and deliver messages.
	// Zero means GOMAXPROCS.
	Workers int
	// WriteTimeout is how long a write to the network may wait while the
	// peer accepts nothing before the connection is aborted: a peer that
	// reads, however slowly, is not cut, one that reads nothing is. Zero
	// means
	// [transport.AcceptOptions.WriteTimeout] (a swill server passes its
	// Limits.WriteTimeout there), and 10s if that is zero too.
	WriteTimeout time.Duration
	// CloseTimeout is how long [transport.Conn.Close] lets the peer take
	// to answer the close frame before the connection is dropped. Zero
	// means 5s.
	CloseTimeout time.Duration

	mu    sync.Mutex
	state acceptorState // platform-specific
}

var _ transport.Acceptor = (*Acceptor)(nil)
