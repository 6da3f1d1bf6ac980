package svcdesc_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/cmd/swill/internal/gen/gentest"
	"github.com/swillorg/swill-go/cmd/swill/internal/svcdesc"
	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/rpc"
)

func TestTypeString(t *testing.T) {
	t.Parallel()
	doc := gentest.Rich()
	node := doc.Defs.Get("Node")
	require.NotNil(t, node)
	want := map[string]string{
		"name":     "string",
		"children": "Node[] | null",
		"parent":   "Node | null",
		"data":     "bytes | null",
		"at":       "datetime",
		"by_id":    "map<integer, string> | null",
		"tags":     "map<string, string[] | null> | null",
		"opt":      "integer | null",
		"pair":     "[number, number]",
		"any":      "any",
		"inline":   "{x: integer}",
		"color":    `"red" | "green"`,
		"user_id":  "integer",
	}
	for _, p := range node.Properties {
		assert.Equal(t, want[p.Name], svcdesc.TypeString(p.Schema), p.Name)
	}
	assert.Equal(t, "(integer | null)[]", svcdesc.TypeString(&introspect.Schema{Type: "array", Items: &introspect.Schema{AnyOf: []*introspect.Schema{{Type: "integer"}, {Type: "null"}}}}))
	assert.Equal(t, "any", svcdesc.TypeString(nil))
}

func TestExample(t *testing.T) {
	t.Parallel()
	doc := gentest.Rich()
	b, err := json.Marshal(svcdesc.Example(doc.Method("get.node").Request.Schema, doc.Defs))
	require.NoError(t, err)
	// Members in declaration order; the recursive fields stop at null.
	assert.Equal(t, `{"name":"example","children":[],"parent":null,"data":"","at":"2024-01-02T15:04:05Z","by_id":{},"tags":{},"opt":1,"pair":[1.5,1.5],"any":null,"inline":{"x":1},"color":"red","user_id":1}`, string(b))

	ptr := func(f float64) *float64 { return &f }
	n := func(i int) *int { return &i }
	cases := []struct {
		s    introspect.Schema
		want any
	}{
		{introspect.Schema{Type: "integer", Minimum: ptr(13)}, int64(13)},
		{introspect.Schema{Type: "integer", ExclusiveMinimum: ptr(13)}, int64(14)},
		{introspect.Schema{Type: "integer", Maximum: ptr(-5)}, int64(-5)},
		{introspect.Schema{Type: "integer", ExclusiveMaximum: ptr(0)}, int64(-1)},
		{introspect.Schema{Type: "number", Minimum: ptr(10)}, 10.0},
		{introspect.Schema{Type: "string", MinLength: n(10)}, "examplexxx"},
		{introspect.Schema{Type: "string", MaxLength: n(3)}, "exa"},
		{introspect.Schema{Type: "string", Format: "email"}, "user@example.com"},
		{introspect.Schema{Type: "boolean"}, false},
		{introspect.Schema{Type: "null"}, nil},
		{introspect.Schema{}, nil},
		{introspect.Schema{Type: "array", Items: &introspect.Schema{Type: "integer"}, MinItems: n(3)}, []any{int64(1), int64(1), int64(1)}},
		{introspect.Schema{Type: "array", Items: &introspect.Schema{Type: "integer"}, MaxItems: n(0)}, []any{}},
		{introspect.Schema{Enum: []any{"b", "a"}}, "b"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, svcdesc.Example(&c.s, nil), "%+v", c.s)
	}
}

func TestOnly(t *testing.T) {
	t.Parallel()
	doc := gentest.Rich()
	one, ok := svcdesc.Only(doc, "get.node")
	require.True(t, ok)
	assert.Len(t, one.Handlers, 1)
	assert.Equal(t, []string{"Node"}, defNames(one))
	one, ok = svcdesc.Only(doc, "add")
	require.True(t, ok)
	assert.Empty(t, defNames(one))
	_, ok = svcdesc.Only(doc, "nope")
	assert.False(t, ok)
}

func defNames(doc *introspect.Document) []string {
	var out []string
	for _, d := range doc.Defs {
		out = append(out, d.Name)
	}
	return out
}

func TestResolve(t *testing.T) {
	t.Parallel()
	defs := introspect.SchemaMap{
		{Name: "A", Schema: &introspect.Schema{Ref: "#/$defs/B"}},
		{Name: "B", Schema: &introspect.Schema{Type: "integer"}},
		{Name: "Loop", Schema: &introspect.Schema{Ref: "#/$defs/Loop"}},
	}
	assert.Equal(t, "integer", svcdesc.Resolve(&introspect.Schema{Ref: "#/$defs/A"}, defs).Type)
	assert.Equal(t, &introspect.Schema{}, svcdesc.Resolve(&introspect.Schema{Ref: "#/$defs/Loop"}, defs))
	assert.Equal(t, &introspect.Schema{}, svcdesc.Resolve(&introspect.Schema{Ref: "#/$defs/Missing"}, defs))
}

// The reference's format, turned into JSON Schema, says what the
// reference can say of the same Go types: the shapes agree with
// swill.describe's, without the validation keywords, docs and nulls.
func TestFromEntries(t *testing.T) {
	t.Parallel()
	type Leaf struct {
		N    int               `msgpack:"n"`
		Tags map[string]string `msgpack:"tags"`
	}
	type Tree struct {
		Name     string     `msgpack:"name"`
		Children []Tree     `msgpack:"children"`
		Leaf     *Leaf      `msgpack:"leaf"`
		Pair     [2]float64 `msgpack:"pair"`
		Raw      []byte     `msgpack:"raw"`
		ByID     map[int]bool
		Anon     struct{ X string }
	}
	specs := []introspect.Spec{
		{Name: "tree", Kind: rpc.KindBidiStream, Request: reflect.TypeFor[Tree](), Response: reflect.TypeFor[[]Leaf]()},
		{Name: "count", Kind: rpc.KindClientStream, Request: reflect.TypeFor[int](), Response: reflect.TypeFor[*int]()},
	}
	var entries []introspect.Entry
	for _, s := range specs {
		entries = append(entries, introspect.NewEntry(s))
	}
	// Through JSON, as a client that saved the stream would have it.
	b, err := json.Marshal(entries)
	require.NoError(t, err)
	entries = nil
	require.NoError(t, json.Unmarshal(b, &entries))

	doc := svcdesc.FromEntries(entries)
	require.Len(t, doc.Handlers, 2)
	assert.Equal(t, "bidi_stream", doc.Handlers[0].Kind)
	assert.Equal(t, "client_stream", doc.Handlers[1].Kind)
	assert.Equal(t, []string{"Leaf", "Tree"}, defNames(doc))
	assert.Equal(t, "Tree", svcdesc.TypeString(doc.Handlers[0].Request.Schema))
	assert.Equal(t, "Leaf[]", svcdesc.TypeString(doc.Handlers[0].Response.Schema))
	assert.Equal(t, "integer | null", svcdesc.TypeString(doc.Handlers[1].Response.Schema))

	tree := doc.Defs.Get("Tree")
	got := map[string]string{}
	for _, p := range tree.Properties {
		got[p.Name] = svcdesc.TypeString(p.Schema)
	}
	assert.Equal(t, map[string]string{
		"name":     "string",
		"children": "Tree[]",
		"leaf":     "Leaf | null",
		"pair":     "[number, number]",
		"raw":      "bytes",
		"ByID":     "map<integer, boolean>",
		"Anon":     "{X: string}",
	}, got)
	assert.Equal(t, []string{"name", "children", "leaf", "pair", "raw", "ByID", "Anon"}, tree.Required)

	// Every reference resolves.
	var walk func(s *introspect.Schema)
	walk = func(s *introspect.Schema) {
		if n := svcdesc.RefName(s); n != "" {
			assert.NotNil(t, doc.Defs.Get(n), n)
		}
		for _, c := range svcdesc.Children(s) {
			walk(c)
		}
	}
	for _, d := range doc.Defs {
		walk(d.Schema)
	}
}
