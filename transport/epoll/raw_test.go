//go:build linux

package epoll_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/epoll"
	"github.com/swillorg/swill-go/transport/gobwasws"
	"github.com/swillorg/swill-go/transport/internal/wstest"
)

var opts = transport.AcceptOptions{Subprotocols: []string{"swill.v1"}}

func TestUnmaskedClientFrame(t *testing.T) {
	srv := wstest.Serve(t, &epoll.Acceptor{}, opts, true)
	nc, err := wstest.Dial(srv.Host, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	rec := srv.Next(t)
	nc.Write([]byte{0x82, 3, 'a', 'b', 'c'})
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if code, _, err := wstest.ReadClose(nc); err != nil || code != transport.StatusProtocolError {
		t.Errorf("close %d, %v; want 1002", code, err)
	}
	nc.Close()
	if transport.CloseStatus(rec.WaitClosed(t)) != transport.StatusProtocolError {
		t.Errorf("HandleClose(%v), want the 1002 this side sent", rec.Err)
	}
}

// Frames sent in the same packet as the upgrade request are parsed from
// what the HTTP server had buffered, including one cut in two.
func TestFramesWithHandshake(t *testing.T) {
	srv := wstest.Serve(t, &epoll.Acceptor{}, opts, false)
	second := wstest.Masked(0x82, []byte("second"))
	early := append(wstest.Masked(0x82, []byte("first")), second[:4]...)
	nc, err := wstest.Dial(srv.Host, early)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	rec := srv.Next(t)
	rec.Conn.Start(&echoRecorder{rec})
	expect := func(want string) {
		t.Helper()
		select {
		case m := <-rec.Msgs:
			if string(m) != want {
				t.Errorf("got %q, want %q", m, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%q not delivered", want)
		}
	}
	expect("first")
	// The echo of "first", flushed on idle: the worker has delivered it
	// and waits for the network with the partial frame alone in hand.
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, p, err := wstest.ReadFrame(nc); err != nil || string(p) != "first" {
		t.Fatalf("echo %q, %v; want \"first\", flushed on idle", p, err)
	}
	nc.Write(second[4:])
	expect("second")
	rec.Conn.Close(transport.StatusNormalClosure, "")
	nc.Close()
	rec.WaitClosed(t)
}

// echoRecorder is a Recorder that also writes every message back,
// leaving the flush to the transport's flush on idle.
type echoRecorder struct{ *wstest.Recorder }

func (r *echoRecorder) HandleMessage(typ transport.MessageType, data []byte) {
	r.Conn.WriteMessage(data)
	r.Recorder.HandleMessage(typ, data)
}

// A peer that never answers the close frame is dropped after
// CloseTimeout.
func TestCloseTimeout(t *testing.T) {
	srv := wstest.Serve(t, &epoll.Acceptor{CloseTimeout: 100 * time.Millisecond}, opts, true)
	nc, err := wstest.Dial(srv.Host, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	rec := srv.Next(t)
	rec.Conn.Close(4000, "bye")
	if err := rec.WaitClosed(t); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("HandleClose(%v), want ErrClosed", err)
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if code, reason, err := wstest.ReadClose(nc); err != nil || code != 4000 || reason != "bye" {
		t.Errorf("close %d %q, %v", code, reason, err)
	}
	if _, err := nc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("after the close frame: %v, want EOF", err)
	}
}

// A connection closed before Start is released at once; Start then
// reports the end.
func TestCloseBeforeStart(t *testing.T) {
	srv := wstest.Serve(t, &epoll.Acceptor{}, opts, false)
	nc, err := wstest.Dial(srv.Host, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	rec := srv.Next(t)
	rec.Conn.Close(transport.StatusGoingAway, "shutting down")
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if code, _, err := wstest.ReadClose(nc); err != nil || code != transport.StatusGoingAway {
		t.Errorf("close %d, %v; want 1001", code, err)
	}
	if _, err := nc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("after the close frame: %v, want EOF", err)
	}
	rec.Conn.Start(rec)
	if err := rec.WaitClosed(t); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("HandleClose(%v), want ErrClosed", err)
	}
}

func TestTLSRefused(t *testing.T) {
	srv := wstest.Serve(t, &epoll.Acceptor{}, opts, true)
	srv.Close()
	ts := httptest.NewUnstartedServer(srv.Config.Handler)
	ts.StartTLS()
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "wss" + strings.TrimPrefix(ts.URL, "https")
	if c, err := (gobwasws.Transport{}).Dial(ctx, url, &transport.DialOptions{HTTPClient: ts.Client()}); err == nil {
		c.Close(transport.StatusNormalClosure, "")
		t.Fatal("a TLS connection was accepted")
	}
	select {
	case <-srv.Accepted:
		t.Error("Accept returned a connection for a TLS request")
	default:
	}
}
