package gobwasws_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/gobwasws"
	"github.com/swillorg/swill-go/transport/internal/wstest"
)

var opts = transport.AcceptOptions{Subprotocols: []string{"swill.v1"}}

func TestUnmaskedClientFrame(t *testing.T) {
	srv := wstest.Serve(t, gobwasws.Transport{}, opts, true)
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

// A frame sent in the same packet as the upgrade request is delivered.
func TestFrameWithHandshake(t *testing.T) {
	srv := wstest.Serve(t, gobwasws.Transport{}, opts, true)
	nc, err := wstest.Dial(srv.Host, wstest.Masked(0x82, []byte("early")))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	rec := srv.Next(t)
	select {
	case m := <-rec.Msgs:
		if string(m) != "early" {
			t.Errorf("got %q", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the early frame was not delivered")
	}
	rec.Conn.Close(transport.StatusNormalClosure, "")
	nc.Close()
	rec.WaitClosed(t)
}

// A peer that never answers the close frame is dropped after
// CloseTimeout.
func TestCloseTimeout(t *testing.T) {
	srv := wstest.Serve(t, gobwasws.Transport{CloseTimeout: 100 * time.Millisecond}, opts, true)
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

// Dial uses the TLS settings of DialOptions.HTTPClient.
func TestDialTLS(t *testing.T) {
	srv := wstest.Serve(t, gobwasws.Transport{}, opts, true)
	srv.Close()
	ts := httptest.NewUnstartedServer(srv.Config.Handler)
	ts.StartTLS()
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "wss" + strings.TrimPrefix(ts.URL, "https")
	c, err := gobwasws.Transport{}.Dial(ctx, url, &transport.DialOptions{Subprotocols: []string{"swill.v1"}, HTTPClient: ts.Client()})
	if err != nil {
		t.Fatal(err)
	}
	client := wstest.NewRecorder(c)
	c.Start(client)
	rec := srv.Next(t)
	if err := c.WriteMessage([]byte("over tls")); err != nil {
		t.Fatal(err)
	}
	c.Flush()
	select {
	case m := <-rec.Msgs:
		if string(m) != "over tls" {
			t.Errorf("got %q", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing received over TLS")
	}
	c.Close(transport.StatusNormalClosure, "")
	client.WaitClosed(t)
	rec.WaitClosed(t)

	if _, err := (gobwasws.Transport{}).Dial(ctx, url, nil); err == nil {
		t.Error("dial without the test certificate succeeded")
	}
}
