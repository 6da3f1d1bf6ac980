package introspect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// User is the request of the example service.
type User struct {
	Name  string   `msgpack:"name" validate:"required,min=2" doc:"Full name."`
	Email string   `msgpack:"email" validate:"required,email"`
	Tags  []string `msgpack:"tags" validate:"max=3"`
	Boss  *User    `msgpack:"boss"`
}

// A client asks a running server for its self-description: the
// reference format stream, and the JSON Schema document.
func Example_client() {
	srv := swill.NewServer(swill.WithVersion("2.0.0"))
	_ = srv.Register(
		swill.Unary("create_user", func(ctx context.Context, u User) (int, error) { return 1, nil },
			swill.WithDoc("Creates a user and returns its id."), swill.WithErrors(rpc.CodeValidation)),
		swill.ServerStream("ticks", func(ctx context.Context, n int, out chan<- float64) error { return nil }),
	)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())

	ctx := context.Background()
	c, err := clientgo.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	// swill.introspect, as the reference Swill clients use it.
	stream, err := clientgo.CallServerStream[any, introspect.Entry](ctx, c, "swill.introspect", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for e, err := range stream.All() {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s(%s) -> %s, streams: %v\n", e.Name, e.Request.Type.Type, e.Response.Type.Type, e.Response.Streams)
	}

	// swill.describe, the richer document.
	doc, err := clientgo.Call[any, introspect.Document](ctx, c, "swill.describe", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(doc.Format, doc.FormatVersion, "service", doc.Version)
	m := doc.Method("create_user")
	fmt.Println(m.Name, m.Kind, m.Doc, m.Errors)
	user, _ := json.Marshal(doc.Defs.Get("User"))
	fmt.Println(string(user))
	// Output:
	// create_user(User) -> int, streams: false
	// ticks(int) -> float, streams: true
	// swill.describe 1 service 2.0.0
	// create_user unary Creates a user and returns its id. [{422 validation error}]
	// {"title":"User","type":"object","properties":{"name":{"description":"Full name.","type":"string","minLength":2},"email":{"type":"string","format":"email"},"tags":{"anyOf":[{"type":"array","items":{"type":"string"},"maxItems":3},{"type":"null"}]},"boss":{"anyOf":[{"$ref":"#/$defs/User"},{"type":"null"}]}},"required":["name","email"]}
}

// TypeOf spells Go types the way the reference Swill server does.
func ExampleTypeOf() {
	for _, t := range []reflect.Type{
		reflect.TypeFor[[2]int](),
		reflect.TypeFor[map[string][]byte](),
		reflect.TypeFor[*float64](),
		reflect.TypeFor[codec.None](),
	} {
		b, _ := json.Marshal(introspect.TypeOf(t))
		fmt.Println(string(b))
	}
	// Output:
	// {"type":"tuple","arguments":{"0":{"type":"int"},"1":{"type":"int"}}}
	// {"type":"dict","arguments":{"0":{"type":"str"},"1":{"type":"bytes"}}}
	// {"type":"Optional","arguments":{"0":{"type":"float"}}}
	// {"type":"None"}
}

// SchemaOf gives the JSON Schema of one type; named structs go to the
// definitions.
func ExampleSchemaOf() {
	s, defs := introspect.SchemaOf(reflect.TypeFor[[]User]())
	b, _ := json.Marshal(s)
	fmt.Println(string(b))
	for _, d := range defs {
		fmt.Println(d.Name, d.Schema.Required)
	}
	// Output:
	// {"anyOf":[{"type":"array","items":{"$ref":"#/$defs/User"}},{"type":"null"}]}
	// User [name email]
}

// NewDocument also describes the channels a server extension declares:
// each one's message type is a schema like a handler's, its named
// structs in the same definitions.
func ExampleNewDocument_channels() {
	doc := introspect.NewDocument("1", nil, introspect.ChannelSpec{
		Pattern: "users.*", Glob: true, Message: reflect.TypeFor[User](),
		HistorySize: 20, Presence: true, Doc: "Profile changes, one channel per team.",
	})
	b, _ := json.Marshal(doc.Channels)
	fmt.Println(string(b))
	fmt.Println(doc.Defs.Get("User").Required)
	// Output:
	// [{"pattern":"users.*","glob":true,"doc":"Profile changes, one channel per team.","message":{"$ref":"#/$defs/User"},"history":{"size":20,"ttl_ms":0},"presence":true,"join_leave":false,"publish":false}]
	// [name email]
}
