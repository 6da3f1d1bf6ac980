package swilltest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/swill/validate"
	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/epoll"
	"github.com/swillorg/swill-go/transport/gobwasws"
)

// TransportEnv names the environment variable that picks the server
// transport of the servers built with [NewServer]: "gobwas" or "epoll";
// empty means the default, coder/websocket.
const TransportEnv = "SWILL_TEST_TRANSPORT"

// built holds the servers made by NewServer, so that Start can refuse a
// server that would ignore TransportEnv.
var built sync.Map

// Acceptor returns the server transport TransportEnv selects: the
// default one, gobwasws or epoll.
func Acceptor() transport.Acceptor {
	switch os.Getenv(TransportEnv) {
	case "gobwas":
		return gobwasws.Transport{}
	case "epoll":
		return &epoll.Acceptor{}
	}
	return transport.WebSocket{}
}

// NewServer is swill.NewServer with the transport TransportEnv selects,
// and the validator of package validate (the demo service's Signup checks
// validate tags); opts may replace either (a swill.WithTransport among
// them, wrapping [Acceptor] say, wins).
func NewServer(opts ...swill.Option) *swill.Server {
	opts = append([]swill.Option{swill.WithValidator(validate.New())}, opts...)
	if os.Getenv(TransportEnv) != "" {
		opts = append([]swill.Option{swill.WithTransport(Acceptor())}, opts...)
	}
	srv := swill.NewServer(opts...)
	built.Store(srv, true)
	return srv
}

// Server is a swill server listening on a loopback port at /ws.
type Server struct {
	*swill.Server
	HTTP *httptest.Server
	// URL is the ws:// URL of the swill endpoint.
	URL string
}

// Start serves srv on a loopback port. The server is shut down when the
// test ends. When TransportEnv is set, srv must come from [NewServer].
func Start(tb testing.TB, srv *swill.Server) *Server {
	tb.Helper()
	switch env := os.Getenv(TransportEnv); env {
	case "":
	case "gobwas", "epoll":
		if _, ok := built.Load(srv); !ok {
			tb.Fatalf("%s=%s: build the server with swilltest.NewServer so that it uses that transport", TransportEnv, env)
		}
	default:
		tb.Fatalf("%s=%q: want gobwas or epoll", TransportEnv, env)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	hs := httptest.NewServer(mux)
	tb.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
	})
	return &Server{Server: srv, HTTP: hs, URL: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"}
}

// StartDemo serves the demo service, built with opts, on a loopback port.
func StartDemo(tb testing.TB, opts ...swill.Option) *Server {
	tb.Helper()
	srv := NewServer(opts...)
	if err := demosvc.Register(srv); err != nil {
		tb.Fatal(err)
	}
	return Start(tb, srv)
}

// Raw is a client connection that sends and receives raw frames.
type Raw struct {
	tb   testing.TB
	Conn *websocket.Conn
	msgs chan []byte
	done chan struct{}
	// Err holds the error that ended the read loop, once done is closed.
	Err error
}

// Dial connects to url offering subprotocols (default swill.v1).
func Dial(tb testing.TB, url string, subprotocols ...string) *Raw {
	tb.Helper()
	if len(subprotocols) == 0 {
		subprotocols = []string{rpc.Subprotocol}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: subprotocols})
	if err != nil {
		tb.Fatalf("dial %s: %v", url, err)
	}
	c.SetReadLimit(64 << 20)
	r := &Raw{tb: tb, Conn: c, msgs: make(chan []byte, 1024), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			typ, b, err := c.Read(context.Background())
			if err != nil {
				r.Err = err
				return
			}
			if typ != websocket.MessageBinary {
				r.Err = errTextFrame
				return
			}
			r.msgs <- b
		}
	}()
	tb.Cleanup(func() {
		c.CloseNow()
		<-r.done
	})
	return r
}

type textFrameError struct{}

func (textFrameError) Error() string { return "swilltest: server sent a text frame" }

var errTextFrame error = textFrameError{}

// Send writes one binary frame.
func (r *Raw) Send(b []byte) {
	r.tb.Helper()
	if err := r.Conn.Write(context.Background(), websocket.MessageBinary, b); err != nil {
		r.tb.Fatalf("send: %v", err)
	}
}

// Recv returns the next frame, failing the test after timeout.
func (r *Raw) Recv(timeout time.Duration) []byte {
	r.tb.Helper()
	select {
	case b := <-r.msgs:
		return b
	case <-r.done:
		select {
		case b := <-r.msgs:
			return b
		default:
		}
		r.tb.Fatalf("connection ended while waiting for a frame: %v", r.Err)
	case <-time.After(timeout):
		r.tb.Fatalf("no frame within %v", timeout)
	}
	return nil
}

// Quiet checks that no frame arrives for d.
func (r *Raw) Quiet(d time.Duration) {
	r.tb.Helper()
	select {
	case b := <-r.msgs:
		r.tb.Fatalf("unexpected frame % x", b)
	case <-time.After(d):
	}
}

// Closed waits for the connection to end and returns the read error.
func (r *Raw) Closed(timeout time.Duration) error {
	r.tb.Helper()
	select {
	case <-r.done:
		return r.Err
	case <-time.After(timeout):
		r.tb.Fatalf("connection still open after %v", timeout)
		return nil
	}
}
