package svcdesc

import (
	"sort"

	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/rpc"
)

// FromEntries builds a document from the items of swill.introspect (the
// reference's format): each handler's kind from which sides stream, its
// types turned into JSON Schema as swill.describe writes them. A named
// struct becomes a definition under "$defs" whose fields are all
// required, as the reference requires them; a struct met again inside
// itself (named without arguments) refers to that definition. Python type
// names this function does not know become the empty schema, which
// accepts anything.
func FromEntries(entries []introspect.Entry) *introspect.Document {
	c := &entryConverter{defs: map[string]*introspect.Schema{}}
	doc := &introspect.Document{
		Format:        introspect.FormatName,
		FormatVersion: introspect.FormatVersion,
		Protocol:      introspect.Protocol,
		JSONSchema:    introspect.JSONSchemaDialect,
		Handlers:      make([]introspect.Method, 0, len(entries)),
	}
	for _, e := range entries {
		doc.Handlers = append(doc.Handlers, introspect.Method{
			Name:     e.Name,
			Kind:     kindOf(e.Request.Streams, e.Response.Streams).String(),
			Request:  introspect.Payload{Streams: e.Request.Streams, Schema: c.schema(e.Request.Type)},
			Response: introspect.Payload{Streams: e.Response.Streams, Schema: c.schema(e.Response.Type)},
			Errors:   []introspect.ErrorCode{},
		})
	}
	// A struct referred to by name but never described with its fields
	// is defined as accepting anything, so that every reference resolves.
	for name := range c.refs {
		if c.defs[name] == nil {
			c.defs[name] = &introspect.Schema{Title: name}
		}
	}
	names := make([]string, 0, len(c.defs))
	for name := range c.defs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		doc.Defs = append(doc.Defs, introspect.NamedSchema{Name: name, Schema: c.defs[name]})
	}
	return doc
}

func kindOf(reqStreams, resStreams bool) rpc.Kind {
	switch {
	case reqStreams && resStreams:
		return rpc.KindBidiStream
	case reqStreams:
		return rpc.KindClientStream
	case resStreams:
		return rpc.KindServerStream
	}
	return rpc.KindUnary
}

type entryConverter struct {
	defs map[string]*introspect.Schema
	refs map[string]bool
}

func (c *entryConverter) arg(t introspect.Type, i int) *introspect.Schema {
	if a, ok := t.Arguments.Get(i); ok {
		return c.schema(a)
	}
	return &introspect.Schema{}
}

func (c *entryConverter) schema(t introspect.Type) *introspect.Schema {
	switch t.Type {
	case "int":
		return &introspect.Schema{Type: "integer"}
	case "float":
		return &introspect.Schema{Type: "number"}
	case "str":
		return &introspect.Schema{Type: "string"}
	case "bool":
		return &introspect.Schema{Type: "boolean"}
	case "bytes":
		return &introspect.Schema{Type: "string", ContentEncoding: "base64", XMsgpack: "bin"}
	case "datetime":
		return &introspect.Schema{Type: "string", Format: "date-time", XMsgpack: "timestamp"}
	case "None", "NoneType":
		return &introspect.Schema{Type: "null"}
	case "Any", "":
		return &introspect.Schema{}
	case "list", "List", "Sequence", "set", "Set", "frozenset":
		return &introspect.Schema{Type: "array", Items: c.arg(t, 0)}
	case "tuple", "Tuple":
		n := len(t.Arguments)
		s := &introspect.Schema{Type: "array", MinItems: &n, MaxItems: &n}
		for i := 0; i < n; i++ {
			s.PrefixItems = append(s.PrefixItems, c.arg(t, i))
		}
		return s
	case "dict", "Dict", "Mapping":
		s := &introspect.Schema{Type: "object", AdditionalProperties: c.arg(t, 1)}
		if k := c.arg(t, 0); k.Type != "string" {
			s.XMsgpackKey = k
		}
		return s
	case "Optional":
		return &introspect.Schema{AnyOf: []*introspect.Schema{c.arg(t, 0), {Type: "null"}}}
	case "Union":
		s := &introspect.Schema{}
		for i := range t.Arguments {
			s.AnyOf = append(s.AnyOf, c.arg(t, i))
		}
		return s
	case "TypedDict":
		return c.object(t)
	}
	if !hasFieldNames(t) {
		// A struct met again inside itself, or a generic type this
		// function does not know.
		if len(t.Arguments) > 0 {
			return &introspect.Schema{}
		}
		if c.refs == nil {
			c.refs = map[string]bool{}
		}
		c.refs[t.Type] = true
		return &introspect.Schema{Ref: "#/$defs/" + t.Type}
	}
	if c.defs[t.Type] == nil {
		def := &introspect.Schema{}
		c.defs[t.Type] = def // first, so that a recursive field finds it
		*def = *c.object(t)
		def.Title = t.Type
	}
	return &introspect.Schema{Ref: "#/$defs/" + t.Type}
}

func hasFieldNames(t introspect.Type) bool {
	if len(t.Arguments) == 0 {
		return false
	}
	for _, a := range t.Arguments {
		if _, ok := a.Key.(string); !ok {
			return false
		}
	}
	return true
}

func (c *entryConverter) object(t introspect.Type) *introspect.Schema {
	s := &introspect.Schema{Type: "object"}
	for _, a := range t.Arguments {
		name, ok := a.Key.(string)
		if !ok {
			continue
		}
		s.Properties = append(s.Properties, introspect.NamedSchema{Name: name, Schema: c.schema(a.Type)})
		s.Required = append(s.Required, name)
	}
	return s
}
