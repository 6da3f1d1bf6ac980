package gentest

import (
	"reflect"
	"time"

	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/rpc"
)

// Node is recursive and holds every kind of field: its fields are named
// after their shapes.
type Node struct {
	Name     string              `msgpack:"name" doc:"The node's name."` // a doc tag
	Children []Node              `msgpack:"children"`                    // recursion through a slice
	Parent   *Node               `msgpack:"parent"`                      // recursion through a pointer
	Data     []byte              `msgpack:"data"`                        // bytes
	At       time.Time           `msgpack:"at"`                          // a time
	ByID     map[int]string      `msgpack:"by_id"`                       // integer keys
	Tags     map[string][]string `msgpack:"tags"`                        // a map of slices
	Opt      *int                `msgpack:"opt"`                         // optional
	Pair     [2]float64          `msgpack:"pair"`                        // a tuple
	Any      any                 `msgpack:"any"`                         // anything
	Inline   struct {
		X int `msgpack:"x"`
	} `msgpack:"inline"` // an unnamed struct
	Color  string `msgpack:"color" validate:"oneof=red green"`         // an enum
	UserID uint32 `msgpack:"user_id" validate:"required,gte=1,lt=100"` // bounds, an initialism
}

// Client has the name the generated Go client type takes.
type Client struct {
	ID string `msgpack:"id"` // an identifier
}

// Service is the type name the generated TypeScript schema takes.
type Service struct {
	On bool `msgpack:"on"` // a flag
}

// Note is the message of a channel, a type no call uses.
type Note struct {
	Text string    `msgpack:"text" validate:"required"`
	At   time.Time `msgpack:"at"`
}

func spec[Req, Res any](name string, kind rpc.Kind, doc string, errs ...rpc.Code) introspect.Spec {
	return introspect.Spec{
		Name: name, Kind: kind, Doc: doc, Errors: errs,
		Request: reflect.TypeFor[Req](), Response: reflect.TypeFor[Res](),
	}
}

// Rich returns the description of a service whose calls and types use
// every shape: recursion, bytes, times, maps with integer keys, optional
// values, tuples, unnamed structs, enums, names that collide with what
// the generators declare and names that are not identifiers; and
// channels, typed and untyped, plain and globs, with and without history,
// presence and client publications.
func Rich() *introspect.Document {
	return introspect.NewDocument("1.2.3", []introspect.Spec{
		spec[Node, *Node]("get.node", rpc.KindUnary, "Returns a node.\n\nThe doc has two paragraphs; */ is no problem.", rpc.CodeNotFound, 418),
		spec[codec.None, Client]("client", rpc.KindUnary, ""),
		spec[Service, []Service]("delete", rpc.KindServerStream, "A name TypeScript reserves."),
		spec[map[string]int, [3]string]("node_stream", rpc.KindClientStream, ""),
		spec[[]byte, time.Time]("bin-time", rpc.KindBidiStream, ""),
		spec[any, codec.None]("Add", rpc.KindUnary, "Differs from add only by case."),
		spec[int, int]("add", rpc.KindUnary, ""),
	},
		introspect.ChannelSpec{Pattern: "chat.*", Glob: true, Message: reflect.TypeFor[Note](), Doc: "Chat rooms, one channel per room.",
			HistorySize: 100, HistoryTTL: 10 * time.Minute, Presence: true, JoinLeave: true, Publish: true},
		introspect.ChannelSpec{Pattern: "ticker"},
		introspect.ChannelSpec{Pattern: "user.[0-9]*", Glob: true, Message: reflect.TypeFor[Node]()},
		introspect.ChannelSpec{Pattern: "add", Message: reflect.TypeFor[int](), Publish: true},
	)
}
