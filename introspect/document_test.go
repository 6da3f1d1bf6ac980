package introspect_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net/mail"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/rpc"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with the file testdata/name, or rewrites the file
// under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), string(got), "differs from %s; rerun with -update if the change is intended", path)
}

func indentJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return b.Bytes()
}

// The types of a service that uses every kind of type introspection
// supports.

type Color string

type Tree struct {
	Value    int     `msgpack:"value"`
	Children []*Tree `msgpack:"children"`
}

type Base struct {
	ID      string    `msgpack:"id" validate:"required,uuid4" doc:"Unique id of the record."`
	Created time.Time `msgpack:"created"`
}

type Address struct {
	Street string `msgpack:"street" validate:"required"`
	City   string `msgpack:"city" validate:"required,min=2,max=64"`
}

type Page[T any] struct {
	Items []T     `msgpack:"items" validate:"max=100"`
	Next  *string `msgpack:"next"`
}

type Everything struct {
	Base
	Name     string            `msgpack:"name" validate:"required,min=2,max=32" doc:"Display name."`
	Email    string            `msgpack:"email" validate:"required,email"`
	Age      int               `msgpack:"age" validate:"gte=13,lt=150"`
	Score    float64           `msgpack:"score" validate:"gt=0,lte=1"`
	Count    uint16            `msgpack:"count"`
	Small    int8              `msgpack:"small"`
	Active   bool              `msgpack:"active"`
	Role     string            `msgpack:"role" validate:"oneof=admin user 'power user'"`
	Level    int               `msgpack:"level" validate:"oneof=1 2 3"`
	Color    Color             `msgpack:"color" validate:"omitempty,hexcolor"`
	Code     string            `msgpack:"code" validate:"startswith=A,endswith=Z"`
	Nickname *string           `msgpack:"nickname" validate:"omitempty,min=1"`
	Home     *Address          `msgpack:"home"`
	Work     Address           `msgpack:"work" validate:"required"`
	Boss     *Address          `msgpack:"boss" validate:"required"`
	Tags     []string          `msgpack:"tags" validate:"max=5,dive,min=1,max=10"`
	Matrix   [][]float64       `msgpack:"matrix"`
	Point    [3]float32        `msgpack:"point" validate:"dive,gte=-1,lte=1"`
	Labels   map[string]string `msgpack:"labels" validate:"dive,keys,min=1,endkeys,max=100"`
	ByID     map[int]Address   `msgpack:"by_id" validate:"dive,keys,gt=0,endkeys"`
	Avatar   []byte            `msgpack:"avatar"`
	Hash     [4]byte           `msgpack:"hash"`
	Addr     netip.Addr        `msgpack:"addr"`
	Extra    any               `msgpack:"extra"`
	Raw      codec.RawMessage  `msgpack:"raw"`
	Tree     Tree              `msgpack:"tree"`
	When     *time.Time        `msgpack:"when"`
	Timeout  time.Duration     `msgpack:"timeout" validate:"min=1s"`
	Nothing  codec.None        `msgpack:"nothing"`
	Inline   struct {
		X int `msgpack:"x" validate:"ne=0"`
	} `msgpack:"inline"`
	Page    Page[Address] `msgpack:"page"`
	Meta    rpc.Metadata  `msgpack:"meta"`
	Website string        `json:"website" validate:"omitempty,url"`
	Either  string        `msgpack:"either" validate:"omitempty,email|url"`
	GoName  string
	Ignored string `msgpack:"-"`
	private int
}

var allTypesSpecs = []introspect.Spec{
	{Name: "everything", Kind: rpc.KindUnary, Doc: "Takes every type.", Request: reflect.TypeFor[Everything](), Response: reflect.TypeFor[Tree](), Errors: []rpc.Code{422, 418, 404, 422}},
	{Name: "pages", Kind: rpc.KindServerStream, Request: reflect.TypeFor[int](), Response: reflect.TypeFor[Page[Address]]()},
	{Name: "upload", Kind: rpc.KindClientStream, Request: reflect.TypeFor[[]byte](), Response: reflect.TypeFor[codec.None]()},
	{Name: "chat", Kind: rpc.KindBidiStream, Request: reflect.TypeFor[any](), Response: reflect.TypeFor[any]()},
	{Name: "pairs", Kind: rpc.KindUnary, Request: reflect.TypeFor[[2]int](), Response: reflect.TypeFor[map[string][]int]()},
	{Name: "mail", Kind: rpc.KindUnary, Doc: "Two structs named Address.", Request: reflect.TypeFor[mail.Address](), Response: reflect.TypeFor[*Address]()},
	{Name: "long", Kind: rpc.KindUnary, Request: reflect.TypeFor[[64]int](), Response: reflect.TypeFor[time.Time]()},
}

// TestDocumentGolden compares the document and the introspection items
// of the service using every supported type with the golden files.
func TestDocumentGolden(t *testing.T) {
	doc := introspect.NewDocument("3.1.4", allTypesSpecs)
	golden(t, "alltypes.describe.json", indentJSON(t, doc))

	entries := make([]introspect.Entry, len(allTypesSpecs))
	for i, s := range allTypesSpecs {
		entries[i] = introspect.NewEntry(s)
	}
	golden(t, "alltypes.introspect.json", indentJSON(t, entries))
}

// TestDocumentShape checks the parts of the document clients rely on.
func TestDocumentShape(t *testing.T) {
	doc := introspect.NewDocument("3.1.4", allTypesSpecs)
	assert.Equal(t, introspect.FormatName, doc.Format)
	assert.Equal(t, 1, doc.FormatVersion)
	assert.Equal(t, "swill/1", doc.Protocol)
	assert.Equal(t, "3.1.4", doc.Version)
	assert.Equal(t, introspect.JSONSchemaDialect, doc.JSONSchema)

	var names []string
	for _, m := range doc.Handlers {
		names = append(names, m.Name)
	}
	assert.Equal(t, []string{"everything", "pages", "upload", "chat", "pairs", "mail", "long"}, names)

	m := doc.Method("everything")
	require.NotNil(t, m)
	kind, ok := m.CallKind()
	assert.True(t, ok)
	assert.Equal(t, rpc.KindUnary, kind)
	assert.Equal(t, []introspect.ErrorCode{{Code: 404, Name: "not found"}, {Code: 418}, {Code: 422, Name: "validation error"}}, m.Errors)
	assert.Equal(t, "#/$defs/introspect_test.Address", doc.Method("mail").Response.Schema.AnyOf[0].Ref)
	assert.Equal(t, "#/$defs/mail.Address", doc.Method("mail").Request.Schema.Ref)
	assert.Nil(t, doc.Method("missing"))

	up := doc.Method("upload")
	assert.True(t, up.Request.Streams)
	assert.False(t, up.Response.Streams)
	assert.Equal(t, []introspect.ErrorCode{}, up.Errors)

	ev := doc.Defs.Get("Everything")
	require.NotNil(t, ev)
	assert.Equal(t, []string{"id", "name", "email", "work", "boss"}, ev.Required)
	assert.Equal(t, "Unique id of the record.", ev.Properties.Get("id").Description)
	assert.Nil(t, ev.Properties.Get("Ignored"))
	assert.Nil(t, ev.Properties.Get("private"))
	assert.NotNil(t, ev.Properties.Get("GoName"))
	assert.NotNil(t, ev.Properties.Get("website"))
	// A required pointer is not nullable; an optional one is.
	assert.Equal(t, "#/$defs/introspect_test.Address", ev.Properties.Get("boss").Ref)
	assert.Len(t, ev.Properties.Get("home").AnyOf, 2)
	// Recursive types refer to themselves.
	tree := doc.Defs.Get("Tree")
	require.NotNil(t, tree)
	assert.Equal(t, "#/$defs/Tree", tree.Properties.Get("children").AnyOf[0].Items.AnyOf[0].Ref)
}

// TestDocumentRoundTrip decodes the document from MsgPack and JSON.
func TestDocumentRoundTrip(t *testing.T) {
	doc := introspect.NewDocument("1", allTypesSpecs)
	want := indentJSON(t, doc)

	b, err := codec.Marshal(doc)
	require.NoError(t, err)
	var fromMsgpack introspect.Document
	require.NoError(t, codec.Unmarshal(b, &fromMsgpack))
	assert.Equal(t, string(want), string(indentJSON(t, &fromMsgpack)))

	var fromJSON introspect.Document
	require.NoError(t, json.Unmarshal(want, &fromJSON))
	assert.Equal(t, string(want), string(indentJSON(t, &fromJSON)))

	// MsgPack keeps the order of the properties too.
	again, err := codec.Marshal(&fromMsgpack)
	require.NoError(t, err)
	assert.Equal(t, b, again)
}

// compileMessage compiles the schema of one message with the document's
// definitions beside it, as a tool would, checking it against the
// draft 2020-12 meta-schema on the way.
func compileMessage(t *testing.T, doc *introspect.Document, s *introspect.Schema) *jsonschema.Schema {
	t.Helper()
	raw, err := json.Marshal(s)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	defs, err := json.Marshal(doc.Defs)
	require.NoError(t, err)
	var d any
	require.NoError(t, json.Unmarshal(defs, &d))
	m["$schema"] = doc.JSONSchema
	m["$defs"] = d
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.AssertContent()
	require.NoError(t, c.AddResource("mem://message.json", m))
	sch, err := c.Compile("mem://message.json")
	require.NoError(t, err)
	return sch
}

// wireJSON encodes v with MsgPack as the server would, decodes it as a
// client sees it, and renders it as JSON values: bin as base64,
// timestamps as RFC 3339, map keys as strings.
func wireJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := codec.Marshal(v)
	require.NoError(t, err)
	var generic any
	require.NoError(t, codec.Unmarshal(b, &generic))
	return toJSON(generic)
}

func toJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = toJSON(e)
		}
		return out
	case map[any]any:
		out := map[string]any{}
		for k, e := range x {
			out[fmt.Sprint(k)] = toJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toJSON(e)
		}
		return out
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case float32:
		return json.Number(strconv.FormatFloat(float64(x), 'g', -1, 32))
	case float64:
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64:
		return json.Number(fmt.Sprint(x))
	}
	return v
}

func validEverything() Everything {
	nick := "Al"
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	raw, _ := codec.Marshal([]int{1, 2})
	e := Everything{
		Base:     Base{ID: "9b2f1c4e-8a3d-4f6b-9c1e-2d3f4a5b6c7d", Created: time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)},
		Name:     "Alice",
		Email:    "alice@example.com",
		Age:      30,
		Score:    0.5,
		Count:    7,
		Small:    -3,
		Active:   true,
		Role:     "power user",
		Level:    2,
		Color:    "#aabbcc",
		Code:     "ABZ",
		Nickname: &nick,
		Work:     Address{Street: "1 Main St", City: "Springfield"},
		Boss:     &Address{Street: "2 Main St", City: "Shelbyville"},
		Tags:     []string{"a", "bc"},
		Matrix:   [][]float64{{1, 2}, {3.5}},
		Point:    [3]float32{0.5, -1, 1},
		Labels:   map[string]string{"env": "prod"},
		ByID:     map[int]Address{7: {Street: "x", City: "Paris"}},
		Avatar:   []byte{1, 2, 3},
		Hash:     [4]byte{9, 8, 7, 6},
		Addr:     netip.MustParseAddr("192.0.2.1"),
		Extra:    map[string]any{"anything": []any{1, "two"}},
		Raw:      raw,
		Tree:     Tree{Value: 1, Children: []*Tree{{Value: 2}, nil}},
		When:     &when,
		Timeout:  time.Second,
		Page:     Page[Address]{Items: []Address{{Street: "s", City: "Rome"}}},
		Meta:     rpc.Metadata{"k": "v"},
		Website:  "https://example.com",
		GoName:   "go",
	}
	e.Inline.X = 1
	return e
}

// TestSchemasValidateWireValues checks that the schemas are valid draft
// 2020-12, that values as they travel satisfy them, and that values
// breaking the validate tags do not.
func TestSchemasValidateWireValues(t *testing.T) {
	doc := introspect.NewDocument("1", allTypesSpecs)
	for _, m := range doc.Handlers {
		compileMessage(t, doc, m.Request.Schema)
		compileMessage(t, doc, m.Response.Schema)
	}
	everything := compileMessage(t, doc, doc.Method("everything").Request.Schema)

	valid := wireJSON(t, validEverything())
	require.NoError(t, everything.Validate(valid))

	// Nil slices, maps and pointers travel as nil, which the schema
	// allows where nothing requires them.
	sparse := validEverything()
	sparse.Nickname, sparse.Home, sparse.Tags, sparse.Labels, sparse.Matrix, sparse.Avatar, sparse.When = nil, nil, nil, nil, nil, nil, nil
	require.NoError(t, everything.Validate(wireJSON(t, sparse)))

	invalid := []struct {
		name   string
		mutate func(*Everything)
	}{
		{"name too short", func(e *Everything) { e.Name = "A" }},
		{"name too long", func(e *Everything) { e.Name = string(make([]byte, 33)) }},
		{"bad email", func(e *Everything) { e.Email = "alice" }},
		{"bad uuid", func(e *Everything) { e.ID = "nope" }},
		{"too young", func(e *Everything) { e.Age = 12 }},
		{"too old", func(e *Everything) { e.Age = 150 }},
		{"score zero", func(e *Everything) { e.Score = 0 }},
		{"score above one", func(e *Everything) { e.Score = 1.5 }},
		{"role outside the enum", func(e *Everything) { e.Role = "root" }},
		{"level outside the enum", func(e *Everything) { e.Level = 4 }},
		{"code pattern", func(e *Everything) { e.Code = "ABC" }},
		{"empty nickname", func(e *Everything) { s := ""; e.Nickname = &s }},
		{"too many tags", func(e *Everything) { e.Tags = []string{"a", "b", "c", "d", "e", "f"} }},
		{"empty tag", func(e *Everything) { e.Tags = []string{""} }},
		{"point out of range", func(e *Everything) { e.Point[1] = 2 }},
		{"label too long", func(e *Everything) { e.Labels = map[string]string{"k": string(make([]byte, 101))} }},
		{"empty label key", func(e *Everything) { e.Labels = map[string]string{"": "v"} }},
		{"nested city too short", func(e *Everything) { e.Work.City = "X" }},
		{"nested in a list", func(e *Everything) { e.Page.Items = []Address{{Street: "s", City: "Y"}} }},
		{"required pointer nil", func(e *Everything) { e.Boss = nil }},
		{"not equal", func(e *Everything) { e.Inline.X = 0 }},
		{"wrong type", func(e *Everything) { e.Small = 0; e.Extra = nil }},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			e := validEverything()
			tc.mutate(&e)
			v := wireJSON(t, e)
			if tc.name == "wrong type" {
				v.(map[string]any)["small"] = "three"
			}
			assert.Error(t, everything.Validate(v))
		})
	}

	t.Run("missing required field", func(t *testing.T) {
		v := wireJSON(t, validEverything()).(map[string]any)
		delete(v, "name")
		assert.Error(t, everything.Validate(v))
	})

	for _, tc := range []struct {
		handler string
		resp    any
	}{
		{"everything", Tree{Value: 1, Children: []*Tree{{Value: 2, Children: []*Tree{{}}}}}},
		{"pages", Page[Address]{Items: []Address{{Street: "s", City: "Oslo"}}}},
		{"upload", codec.None{}},
		{"chat", map[int]any{1: []any{"x"}}},
		{"pairs", map[string][]int{"a": {1}, "b": nil}},
		{"mail", &Address{Street: "s", City: "Bern"}},
		{"mail", (*Address)(nil)},
		{"long", time.Now()},
	} {
		sch := compileMessage(t, doc, doc.Method(tc.handler).Response.Schema)
		assert.NoError(t, sch.Validate(wireJSON(t, tc.resp)), tc.handler)
	}
	pairs := compileMessage(t, doc, doc.Method("pairs").Request.Schema)
	assert.NoError(t, pairs.Validate(wireJSON(t, [2]int{1, 2})))
	assert.Error(t, pairs.Validate(wireJSON(t, []int{1, 2, 3})))
	long := compileMessage(t, doc, doc.Method("long").Request.Schema)
	assert.NoError(t, long.Validate(wireJSON(t, [64]int{})))
	assert.Error(t, long.Validate(wireJSON(t, [63]int{})))
}

// TestSchemaKeywords checks the keywords of validate tags the golden
// service does not use.
func TestSchemaKeywords(t *testing.T) {
	cases := []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{"gt and lt on a string", reflect.TypeFor[struct {
			S string `msgpack:"s" validate:"gt=2,lt=5"`
		}](), `{"type":"string","minLength":3,"maxLength":4}`},
		{"len on a list", reflect.TypeFor[struct {
			S []int `msgpack:"s" validate:"len=2,unique"`
		}](), `{"anyOf":[{"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":2,"uniqueItems":true},{"type":"null"}]}`},
		{"min and max on a map", reflect.TypeFor[struct {
			S map[string]bool `msgpack:"s" validate:"required,min=1,max=3"`
		}](), `{"type":"object","additionalProperties":{"type":"boolean"},"minProperties":1,"maxProperties":3}`},
		{"eq on a string", reflect.TypeFor[struct {
			S string `msgpack:"s" validate:"eq=yes"`
		}](), `{"type":"string","enum":["yes"]}`},
		{"len on a number", reflect.TypeFor[struct {
			S uint `msgpack:"s" validate:"len=4"`
		}](), `{"type":"integer","enum":[4],"minimum":0}`},
		{"datetime", reflect.TypeFor[struct {
			S string `msgpack:"s" validate:"datetime=2006-01-02"`
		}](), `{"type":"string","format":"date"}`},
		{"formats", reflect.TypeFor[struct {
			S string `msgpack:"s" validate:"ipv4"`
		}](), `{"type":"string","format":"ipv4"}`},
		{"alternatives are left out", reflect.TypeFor[struct {
			S string `msgpack:"s" validate:"email|url,min=1"`
		}](), `{"type":"string","minLength":1}`},
		{"unknown tags are left out", reflect.TypeFor[struct {
			S int `msgpack:"s" validate:"even,min=2"`
		}](), `{"type":"integer","minimum":2}`},
		{"keys of an integer map", reflect.TypeFor[struct {
			S map[uint8]string `msgpack:"s" validate:"dive,keys,max=9,endkeys,alpha"`
		}](), `{"anyOf":[{"type":"object","additionalProperties":{"type":"string","pattern":"^[a-zA-Z]+$"},"x-msgpack-key":{"type":"integer","maximum":9,"minimum":0}},{"type":"null"}]}`},
		{"pointer elements", reflect.TypeFor[struct {
			S []*int `msgpack:"s" validate:"dive,gte=1"`
		}](), `{"anyOf":[{"type":"array","items":{"anyOf":[{"type":"integer","minimum":1},{"type":"null"}]}},{"type":"null"}]}`},
		{"bytes keep their length to themselves", reflect.TypeFor[struct {
			S []byte `msgpack:"s" validate:"max=4"`
		}](), `{"anyOf":[{"type":"string","contentEncoding":"base64","x-msgpack":"bin"},{"type":"null"}]}`},
		{"duration bound is not a number", reflect.TypeFor[struct {
			S time.Duration `msgpack:"s" validate:"gte=1m"`
		}](), `{"type":"integer"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, defs := introspect.SchemaOf(tc.typ)
			assert.Empty(t, defs)
			b, err := json.Marshal(s.Properties.Get("s"))
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(b))
		})
	}
}
