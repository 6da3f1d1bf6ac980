package peer

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"

	"github.com/swillorg/swill-go/bench/internal/payload"
)

// Server serves one peer's protocol.
type Server interface {
	// Serve accepts connections on ln until Close; it returns nil once
	// closed.
	Serve(ln net.Listener) error
	// Close stops the server and drops its connections.
	Close() error
}

// Client is one connection to a peer's server.
type Client interface {
	// Call sends req as one unary call and returns the reply. It is safe
	// for concurrent use; the calls share the connection.
	Call(ctx context.Context, req *payload.Payload) (payload.Payload, error)
	// Stream asks for req.Count items and gives each to fn, in order, as
	// it arrives; the item is only valid during fn. An error from fn ends
	// the stream.
	Stream(ctx context.Context, req *payload.StreamRequest, fn func(i int, item *payload.Payload) error) error
	// Close closes the connection.
	Close() error
}

// Peer is one contender: how to build its server and how to connect to it.
type Peer struct {
	// Name identifies the peer in flags and reports, e.g. "grpc-pipe".
	Name string
	// Server names the server the client talks to. Peers that differ
	// only on the client side (gRPC unary and gRPC pipe) share one.
	Server string
	// Description says in a few words what the peer is, for the report.
	Description string
	// Order places the peer in reports; lower comes first.
	Order int
	// NewServer builds the server.
	NewServer func() (Server, error)
	// Dial connects one client to the server listening at addr
	// (host:port).
	Dial func(ctx context.Context, addr string) (Client, error)
}

var (
	mu    sync.Mutex
	peers = map[string]Peer{}
)

// Register adds p; a second peer with the same name panics, since names
// are fixed at compile time.
func Register(p Peer) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := peers[p.Name]; dup {
		panic(fmt.Sprintf("peer: %q registered twice", p.Name))
	}
	peers[p.Name] = p
}

// Lookup returns the peer named name.
func Lookup(name string) (Peer, bool) {
	mu.Lock()
	defer mu.Unlock()
	p, ok := peers[name]
	return p, ok
}

// LookupServer returns a peer whose server is named name.
func LookupServer(name string) (Peer, bool) {
	for _, p := range All() {
		if p.Server == name {
			return p, true
		}
	}
	return Peer{}, false
}

// All returns every registered peer in report order.
func All() []Peer {
	mu.Lock()
	defer mu.Unlock()
	out := make([]Peer, 0, len(peers))
	for _, p := range peers {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Order != out[j].Order {
			return out[i].Order < out[j].Order
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Info describes a peer without its functions, for listings.
type Info struct {
	Name        string `json:"name"`
	Server      string `json:"server"`
	Description string `json:"description"`
}

// Infos describes every registered peer in report order.
func Infos() []Info {
	var out []Info
	for _, p := range All() {
		out = append(out, Info{Name: p.Name, Server: p.Server, Description: p.Description})
	}
	return out
}
