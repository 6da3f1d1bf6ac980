package psbench

import (
	"context"
	"fmt"
	"net"
	"sort"
	"time"
)

// Channel is the channel every subscriber subscribes to and the server
// publishes on.
const Channel = "bench"

// Text is the message's text: with the other fields, about 60 bytes of
// MsgPack, like the RPC suite's small payload.
const Text = "the quick brown fox jumps over the lazy dog"

// Msg is the publication both peers carry, encoded as MsgPack: swill-go's
// hub encodes it as the item's data, centrifuge carries the same MsgPack
// bytes as the publication's data.
type Msg struct {
	// Seq counts the publications of a phase from 1.
	Seq uint64 `msgpack:"seq"`
	// Phase tells the phases of one measurement apart.
	Phase uint8 `msgpack:"phase"`
	// TS is the publisher's wall clock when it published, in Unix
	// nanoseconds: the server and the client run on one machine.
	TS   int64  `msgpack:"ts"`
	Text string `msgpack:"text"`
}

// Server is one peer's pub/sub server.
type Server interface {
	// Serve accepts connections on ln until Close; it returns nil once
	// closed.
	Serve(ln net.Listener) error
	// Publish publishes m on Channel through the server's engine.
	Publish(ctx context.Context, m *Msg) error
	// Close stops the server and drops its connections.
	Close() error
}

// Subscriber is one connection subscribed to Channel.
type Subscriber interface {
	// Next waits for the next publication and decodes it into m.
	Next(ctx context.Context, m *Msg) error
	// Close closes the connection.
	Close() error
}

// Peer is one contender of the pub/sub workloads.
type Peer struct {
	// Name identifies the peer in flags and reports.
	Name string
	// Description says in a few words what the peer is, for the report.
	Description string
	// Order places the peer in reports; lower comes first.
	Order int
	// NewServer builds the server; with a non-empty redisAddr
	// (host:port) its engine goes through that Redis, so that several
	// servers share publications.
	NewServer func(redisAddr string) (Server, error)
	// Subscribe dials the server listening at addr (host:port) and
	// subscribes to Channel; it returns once the server confirmed the
	// subscription.
	Subscribe func(ctx context.Context, addr string) (Subscriber, error)
}

var peers = map[string]Peer{}

func register(p Peer) {
	if _, dup := peers[p.Name]; dup {
		panic(fmt.Sprintf("psbench: %q registered twice", p.Name))
	}
	peers[p.Name] = p
}

// Lookup returns the peer named name.
func Lookup(name string) (Peer, bool) {
	p, ok := peers[name]
	return p, ok
}

// All returns every peer in report order.
func All() []Peer {
	out := make([]Peer, 0, len(peers))
	for _, p := range peers {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Order < out[j].Order })
	return out
}

// PublishAt publishes count messages of phase at a fixed rate (one every
// interval, paced from the start so that a late tick does not slow the
// rate down), each stamped with the time of its publication.
func PublishAt(ctx context.Context, s Server, phase uint8, count int, interval time.Duration) error {
	start := time.Now()
	for i := range count {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		m := Msg{Seq: uint64(i + 1), Phase: phase, TS: time.Now().UnixNano(), Text: Text}
		if err := s.Publish(ctx, &m); err != nil {
			return fmt.Errorf("psbench: publication %d of phase %d: %w", i+1, phase, err)
		}
	}
	return nil
}
