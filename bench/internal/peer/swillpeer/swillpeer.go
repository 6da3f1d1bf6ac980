package swillpeer

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/transport"

	"github.com/swillorg/swill-go/bench/internal/payload"
	"github.com/swillorg/swill-go/bench/internal/peer"
)

func init() {
	Register("swill", "swill-go server + clientgo, default transport (coder/websocket)", 20, Options{})
}

// Options selects a transport for each side. The functions are called
// when a server is built or a client dials, after every peer registered;
// nil, or a nil result, means the default transport.
type Options struct {
	// Acceptor returns the server's transport.
	Acceptor func() transport.Acceptor
	// Dialer returns the client's transport.
	Dialer func() transport.Dialer
	// Serve, when set, replaces serving over an http.Server: it serves
	// srv on ln until the returned stop function is called.
	Serve func(srv *swill.Server, ln net.Listener) (stop func() error, err error)
}

// fastDialer is the fastest client transport compiled in, for the peers
// whose point is the server side; nil means the default.
var fastDialer transport.Dialer

// Register adds a swill peer named name whose server and client use the
// transports of opts.
func Register(name, description string, order int, opts Options) {
	peer.Register(peer.Peer{
		Name:        name,
		Server:      name,
		Description: description,
		Order:       order,
		NewServer:   func() (peer.Server, error) { return newServer(opts) },
		Dial: func(ctx context.Context, addr string) (peer.Client, error) {
			return dial(ctx, addr, opts)
		},
	})
}

// NewService returns a swill server with the suite's handlers.
func NewService(opts ...swill.Option) (*swill.Server, error) {
	srv := swill.NewServer(opts...)
	err := srv.Register(
		swill.Unary("add", func(_ context.Context, p payload.Payload) (payload.Payload, error) {
			return payload.Apply(p), nil
		}),
		swill.ServerStream("items", func(ctx context.Context, req payload.StreamRequest, out chan<- payload.Payload) error {
			for i := range req.Count {
				select {
				case out <- payload.StreamItem(&req, i):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		}),
	)
	return srv, err
}

type server struct {
	opts Options
	srv  *swill.Server
	hs   *http.Server
	done chan struct{}
}

func newServer(opts Options) (*server, error) {
	var sopts []swill.Option
	if opts.Acceptor != nil {
		if a := opts.Acceptor(); a != nil {
			sopts = append(sopts, swill.WithTransport(a))
		}
	}
	srv, err := NewService(sopts...)
	if err != nil {
		return nil, err
	}
	s := &server{opts: opts, srv: srv, done: make(chan struct{})}
	if opts.Serve == nil {
		mux := http.NewServeMux()
		mux.Handle("/ws", srv)
		s.hs = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	}
	return s, nil
}

func (s *server) Serve(ln net.Listener) error {
	if s.opts.Serve != nil {
		stop, err := s.opts.Serve(s.srv, ln)
		if err != nil {
			return err
		}
		<-s.done
		return stop()
	}
	if err := s.hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-s.done
	return nil
}

func (s *server) Close() error {
	defer close(s.done)
	if s.hs != nil {
		s.hs.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

type client struct {
	c *clientgo.Client
}

func dial(ctx context.Context, addr string, opts Options) (peer.Client, error) {
	var copts []clientgo.Option
	if opts.Dialer != nil {
		if d := opts.Dialer(); d != nil {
			copts = append(copts, clientgo.WithDialer(d))
		}
	}
	c, err := clientgo.Dial(ctx, "ws://"+addr+"/ws", copts...)
	if err != nil {
		return nil, err
	}
	return &client{c: c}, nil
}

func (c *client) Call(ctx context.Context, req *payload.Payload) (payload.Payload, error) {
	return clientgo.Call[*payload.Payload, payload.Payload](ctx, c.c, "add", req)
}

func (c *client) Stream(ctx context.Context, req *payload.StreamRequest, fn func(int, *payload.Payload) error) error {
	st, err := clientgo.CallServerStream[*payload.StreamRequest, payload.Payload](ctx, c.c, "items", req)
	if err != nil {
		return err
	}
	defer st.Close()
	for i := 0; ; i++ {
		item, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(i, &item); err != nil {
			return err
		}
	}
}

func (c *client) Close() error { return c.c.Close() }
