package wstest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/swillorg/swill-go/transport"
)

// Recorder is a [transport.Handler] that passes on what it receives.
type Recorder struct {
	Conn transport.Conn
	// Msgs receives a copy of every message.
	Msgs chan []byte
	// Closed is closed after HandleClose, which sets Err.
	Closed chan struct{}
	Err    error
}

// NewRecorder returns a Recorder for c, not started.
func NewRecorder(c transport.Conn) *Recorder {
	return &Recorder{Conn: c, Msgs: make(chan []byte, 64), Closed: make(chan struct{})}
}

// HandleMessage implements [transport.Handler].
func (r *Recorder) HandleMessage(_ transport.MessageType, data []byte) {
	r.Msgs <- append([]byte(nil), data...)
}

// HandleClose implements [transport.Handler].
func (r *Recorder) HandleClose(err error) {
	r.Err = err
	close(r.Closed)
}

// WaitClosed waits for HandleClose and returns its error.
func (r *Recorder) WaitClosed(tb testing.TB) error {
	tb.Helper()
	select {
	case <-r.Closed:
		return r.Err
	case <-time.After(10 * time.Second):
		tb.Fatal("HandleClose not called")
		return nil
	}
}

// Server accepts WebSocket connections on a loopback port.
type Server struct {
	*httptest.Server
	// URL is the ws:// URL of the server; Host its host:port.
	URL, Host string
	// Accepted receives a Recorder for each accepted connection; it is
	// started unless the server was made with start false.
	Accepted chan *Recorder
}

// Serve accepts with a and opts. With start false, connections are
// handed out without Start. The server closes when the test ends, after
// closing the connections it accepted.
func Serve(tb testing.TB, a transport.Acceptor, opts transport.AcceptOptions, start bool) *Server {
	tb.Helper()
	s := &Server{Accepted: make(chan *Recorder, 16)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := opts
		c, err := a.Accept(w, r, &o)
		if err != nil {
			return
		}
		rec := NewRecorder(c)
		if start {
			c.Start(rec)
		}
		s.Accepted <- rec
	}))
	s.URL = "ws" + strings.TrimPrefix(s.Server.URL, "http")
	s.Host = strings.TrimPrefix(s.Server.URL, "http://")
	tb.Cleanup(s.Close)
	return s
}

// Next returns the next accepted connection.
func (s *Server) Next(tb testing.TB) *Recorder {
	tb.Helper()
	select {
	case r := <-s.Accepted:
		return r
	case <-time.After(10 * time.Second):
		tb.Fatal("no connection accepted")
		return nil
	}
}
