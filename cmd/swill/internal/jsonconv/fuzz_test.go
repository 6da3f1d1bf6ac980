package jsonconv_test

import (
	"encoding/json"
	"testing"

	"github.com/swillorg/swill-go/cmd/swill/internal/jsonconv"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/introspect"
)

// schemaDoc carries a fuzzed schema and its definitions as MsgPack, the
// way a server's description document brings them to the swill command.
type schemaDoc struct {
	S    *introspect.Schema   `msgpack:"s"`
	Defs introspect.SchemaMap `msgpack:"defs"`
}

// FuzzDecode fuzzes the swill command's JSON to MsgPack conversion with
// both of its inputs: the JSON a user writes and the JSON Schema a server
// describes (a hostile server chooses it: references that loop, anyOf in
// anyOf, keys of any type). No input may panic or loop, and a converted
// value encodes to MsgPack and back to JSON.
func FuzzDecode(f *testing.F) {
	two := 2
	blob := &introspect.Schema{
		Type: "object",
		Properties: introspect.SchemaMap{
			{Name: "data", Schema: &introspect.Schema{Type: "string", ContentEncoding: "base64", XMsgpack: "bin"}},
			{Name: "at", Schema: &introspect.Schema{AnyOf: []*introspect.Schema{{Type: "string", Format: "date-time", XMsgpack: "timestamp"}, {Type: "null"}}}},
			{Name: "count", Schema: &introspect.Schema{Type: "integer"}},
			{Name: "byID", Schema: &introspect.Schema{Type: "object", AdditionalProperties: &introspect.Schema{Type: "string"}, XMsgpackKey: &introspect.Schema{Type: "integer"}}},
			{Name: "self", Schema: &introspect.Schema{Ref: "#/$defs/Blob"}},
		},
	}
	docs := []schemaDoc{
		{},
		{S: &introspect.Schema{Type: "integer"}},
		{S: &introspect.Schema{Type: "array", PrefixItems: []*introspect.Schema{{Ref: "#/$defs/Blob"}, {Type: "string"}}, MinItems: &two, MaxItems: &two},
			Defs: introspect.SchemaMap{{Name: "Blob", Schema: blob}}},
		{S: &introspect.Schema{Ref: "#/$defs/A"}, Defs: introspect.SchemaMap{
			{Name: "A", Schema: &introspect.Schema{Ref: "#/$defs/B"}},
			{Name: "B", Schema: &introspect.Schema{Ref: "#/$defs/A"}},
		}},
		{S: &introspect.Schema{Type: "object", XMsgpackKey: &introspect.Schema{Type: "boolean"}, AdditionalProperties: &introspect.Schema{Type: "array", Items: &introspect.Schema{Type: "string", XMsgpack: "timestamp"}}}},
	}
	inputs := []string{
		`[{"data": "aGk=", "at": "2024-01-02T03:04:05Z", "count": 2e1, "byID": {"7": "seven"}, "self": {"count": 1}}, "aGk="]`,
		`1e400`, `-0`, `18446744073709551616`, `{"true": ["2024-01-02T03:04:05Z"], "false": []}`,
		`"x"`, `null`, `[]`, `{}`, `[1, 2.5, "a", null, true, {"k": [[]]}]`, `{"a": 1} {"b": 2}`, ``, `[`,
	}
	for _, d := range docs {
		s, err := codec.Marshal(d)
		if err != nil {
			f.Fatal(err)
		}
		for _, in := range inputs {
			f.Add([]byte(in), s)
		}
	}
	f.Fuzz(func(t *testing.T, in, schema []byte) {
		var d schemaDoc
		if codec.Unmarshal(schema, &d) != nil {
			d = schemaDoc{}
		}
		v, err := jsonconv.Decode(in, d.S, d.Defs)
		if err != nil {
			return
		}
		b, err := codec.Marshal(v)
		if err != nil {
			t.Fatalf("%#v converted from %q does not encode: %v", v, in, err)
		}
		var back any
		if err := codec.Unmarshal(b, &back); err != nil {
			t.Fatalf("% x does not decode: %v", b, err)
		}
		if _, err := jsonconv.Marshal(back, false); err != nil {
			t.Fatalf("%#v does not go back to JSON: %v", back, err)
		}
	})
}

// FuzzToJSON fuzzes the other way, which the swill command takes with
// every result a server sends: any MsgPack value becomes valid JSON.
func FuzzToJSON(f *testing.F) {
	for _, v := range []any{
		nil, 1, 1.5, "s", []byte("b"), map[any]any{1: "a", nil: 2, true: 3, 1.5: 4, "k": []any{map[any]any{}}},
		map[string]any{"t": 1}, []any{1, "x"},
	} {
		b, err := codec.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1}) // NaN
	f.Add([]byte{0xd6, 0xff, 0, 0, 0, 1})             // a timestamp
	f.Add([]byte{0xd4, 0x05, 0x01})                   // another extension
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if codec.Unmarshal(data, &v) != nil {
			return
		}
		b, err := jsonconv.Marshal(v, false)
		if err != nil {
			t.Fatalf("% x: %v", data, err)
		}
		if !json.Valid(b) {
			t.Fatalf("% x gave invalid JSON %s", data, b)
		}
	})
}
