package progress_test

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/swillorg/swill-go/transport/internal/progress"
)

// pair returns the two ends of a loopback TCP connection.
func pair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close(); peer.Close() })
	return nc, peer
}

// A peer that reads nothing is cut once the socket buffers are full and
// a timeout has passed without progress; later writes fail too.
func TestPeerThatDoesNotRead(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	nc, _ := pair(t)
	var w progress.Writer
	w.Init(nc, timeout)
	buf := make([]byte, 64<<10)
	var err error
	var blocked time.Time
	for err == nil {
		blocked = time.Now()
		_, err = w.Write(buf)
	}
	var st *progress.Stalled
	if !errors.As(err, &st) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write to a peer that does not read: %v, want a *progress.Stalled wrapping os.ErrDeadlineExceeded", err)
	}
	if d := time.Since(blocked); d < timeout {
		t.Errorf("cut %v after the write blocked, before the timeout of %v", d, timeout)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("a write after the cut succeeded")
	}
}

// A peer that reads, in bursts with pauses shorter than the timeout, is
// not cut while one large write takes many timeouts.
func TestPeerThatReadsSlowly(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	nc, peer := pair(t)
	var w progress.Writer
	w.Init(nc, timeout)
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 256<<10)
		for {
			time.Sleep(timeout / 3) // real time: a pause in the reading, shorter than the timeout
			if _, err := io.ReadFull(peer, buf); err != nil {
				done <- err
				return
			}
		}
	}()
	// 8 MiB at about 256 KiB per 100ms: some three seconds, ten timeouts.
	start := time.Now()
	if _, err := w.Write(make([]byte, 8<<20)); err != nil {
		t.Fatalf("a peer that reads was cut after %v: %v", time.Since(start), err)
	}
}
