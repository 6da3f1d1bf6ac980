package clientgo

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/swillorg/swill-go/internal/wire"
)

// fuzzResult is a typed response, decoded by a plan.
type fuzzResult struct {
	A int            `msgpack:"a"`
	B []string       `msgpack:"b"`
	C map[string]any `msgpack:"c"`
}

// respFrame builds a response frame for seq: head is the frame's array
// header (any byte, so that frames of every length and none are tried),
// then seq, then rest as it is.
func respFrame(head byte, seq int64, rest []byte) []byte {
	b := wire.GetBuffer()
	defer wire.PutBuffer(b)
	enc := wire.GetEncoder()
	defer wire.PutEncoder(enc)
	if err := enc.Response(b, seq, wire.TypeMessage, nil, nil, nil); err != nil {
		panic(err)
	}
	// The encoder writes 95, seq, then c0 00 c0 c0: keep only seq.
	out := append([]byte{head}, b.B[1:len(b.B)-4]...)
	return append(out, rest...)
}

// FuzzClientFrames plays a hostile server: it sends two fuzzed frames
// to a client with a unary call and a server stream open, addressed to
// each call's seq. Whatever the frames hold, the client must not panic,
// each call must end (with a result, an item or an error) once the server
// sends its terminal frame, and the connection must keep working.
func FuzzClientFrames(f *testing.F) {
	seeds := [][]byte{
		{0x03, 0x00, 0xc0},                        // a unary result, 3 elements, value 0
		{0x81, 0xa1, 'a', 0x05, 0x00, 0xc0, 0xc0}, // {"a": 5}
		{0x03, 0x01, 0xc0, 0xc0},                  // END_OF_STREAM
		{0xc0, 0x02, 0x81, 0xa1, 'k', 0x01, 0xc0}, // METADATA
		{0x82, 0xa4, 'c', 'o', 'd', 'e', 0xcd, 0x01, 0xa6, 0xa7, 'm', 'e', 's', 's', 'a', 'g', 'e', 0xa1, 'x', 0x03, 0xc0, 0xc0},
		{0xa1, 'x', 0x03, 0xc0, 0xc0}, // an ERROR that is not a map
		{0xc0, 0x09},                  // an unknown type
		{0xc1},                        // not MsgPack
		{0xdd, 0xff, 0xff, 0xff, 0xff},
		{},
	}
	for _, a := range seeds {
		for _, b := range seeds[:4] {
			f.Add(byte(0x95), a, byte(0x95), b)
		}
	}
	f.Add(byte(0x92), []byte{}, byte(0x91), []byte{})
	f.Add(byte(0xdc), []byte{0x00, 0x05}, byte(0x96), []byte{0xc0, 0x00, 0xc0, 0xc0, 0xc1})

	f.Fuzz(func(t *testing.T, headU byte, restU []byte, headS byte, restS []byte) {
		c, s := startFake(t, WithLogger(slog.New(slog.DiscardHandler)))
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()

		unary := make(chan error, 1)
		go func() {
			_, err := Call[int, fuzzResult](ctx, c, "u", 1)
			unary <- err
		}()
		seqU := s.recv().Seq
		st, err := CallServerStream[int, any](ctx, c, "s", 1)
		if err != nil {
			t.Fatal(err)
		}
		seqS := s.recv().Seq
		stream := make(chan error, 1)
		go func() {
			for {
				if _, err := st.Recv(); err != nil {
					stream <- err
					return
				}
			}
		}()

		s.send(respFrame(headU, seqU, restU))
		s.send(respFrame(headS, seqS, restS))
		// The terminal frames; a call already ended drops its own.
		s.respond(seqU, wire.TypeError, map[string]any{"code": 500, "message": "end"}, nil, nil)
		s.respond(seqS, wire.TypeEndOfStream, nil, nil, nil)
		for name, ch := range map[string]chan error{"unary call": unary, "server stream": stream} {
			select {
			case <-ch:
			case <-time.After(wait):
				t.Fatalf("the %s did not end", name)
			}
		}

		// The connection still serves.
		go func() {
			v, err := Call[int, int](ctx, c, "add", 1)
			if err == nil && v != 7 {
				err = errors.New("wrong result")
			}
			unary <- err
		}()
		for {
			fr := s.recv()
			if fr.Type == wire.TypeCancel {
				continue
			}
			s.respond(fr.Seq, wire.TypeMessage, 7, nil, nil)
			break
		}
		if err := <-unary; err != nil {
			t.Fatalf("the connection no longer works: %v", err)
		}
	})
}
