package svcdesc

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/swillorg/swill-go/introspect"
)

// defPrefix starts every reference a document makes.
const defPrefix = "#/$defs/"

// RefName returns the definition name a schema refers to, or "".
func RefName(s *introspect.Schema) string {
	if s == nil {
		return ""
	}
	return strings.TrimPrefix(s.Ref, defPrefix)
}

// Resolve follows s's references through defs and returns the schema
// they lead to; a reference that leads nowhere (or in a circle) gives the
// empty schema. A nil s is the empty schema.
func Resolve(s *introspect.Schema, defs introspect.SchemaMap) *introspect.Schema {
	for range len(defs) + 1 {
		if s == nil {
			return &introspect.Schema{}
		}
		if s.Ref == "" {
			return s
		}
		s = defs.Get(RefName(s))
	}
	return &introspect.Schema{}
}

// IsBytes reports whether s describes binary data (MsgPack bin, base64 in
// JSON).
func IsBytes(s *introspect.Schema) bool {
	return s.Type == "string" && s.XMsgpack == "bin" && s.ContentEncoding == "base64"
}

// IsTimestamp reports whether s describes a time (the MsgPack timestamp
// extension, an RFC 3339 string in JSON).
func IsTimestamp(s *introspect.Schema) bool {
	return s.Type == "string" && s.XMsgpack == "timestamp"
}

// Nullable splits a schema of the form anyOf [T, null] into T and true;
// other schemas are returned as they are, with false.
func Nullable(s *introspect.Schema) (*introspect.Schema, bool) {
	if s == nil || len(s.AnyOf) != 2 || s.AnyOf[1] == nil || s.AnyOf[1].Type != "null" || !bareAnyOf(s) {
		return s, false
	}
	return s.AnyOf[0], true
}

func bareAnyOf(s *introspect.Schema) bool {
	c := *s
	c.AnyOf, c.Description, c.Title = nil, "", ""
	b, _ := json.Marshal(&c)
	return string(b) == "{}"
}

// IsAny reports whether s accepts any value: it has no keyword that
// constrains a value.
func IsAny(s *introspect.Schema) bool {
	if s == nil {
		return true
	}
	c := *s
	c.Description, c.Title = "", ""
	b, _ := json.Marshal(&c)
	return string(b) == "{}"
}

// TypeString writes s in the short notation of listings and docs:
// integer, number, string, boolean, null, bytes, datetime, any; T[] for
// an array, [A, B] for a tuple, {a: A, b: B} for an unnamed object, a
// definition's name for a reference, map<K, V> for a map, A | B for
// alternatives, and JSON literals for an enum.
func TypeString(s *introspect.Schema) string {
	return typeString(s, false)
}

func typeString(s *introspect.Schema, inner bool) string {
	if s == nil {
		return "any"
	}
	wrap := func(t string) string {
		if inner {
			return "(" + t + ")"
		}
		return t
	}
	switch {
	case s.Ref != "":
		return RefName(s)
	case len(s.Enum) > 0:
		parts := make([]string, len(s.Enum))
		for i, v := range s.Enum {
			parts[i] = literal(v)
		}
		if len(parts) == 1 {
			return parts[0]
		}
		return wrap(strings.Join(parts, " | "))
	case len(s.AnyOf) > 0:
		parts := make([]string, len(s.AnyOf))
		for i, a := range s.AnyOf {
			parts[i] = typeString(a, true)
		}
		if len(parts) == 1 {
			return parts[0]
		}
		return wrap(strings.Join(parts, " | "))
	case IsBytes(s):
		return "bytes"
	case IsTimestamp(s):
		return "datetime"
	}
	switch s.Type {
	case "array":
		if len(s.PrefixItems) > 0 {
			parts := make([]string, len(s.PrefixItems))
			for i, p := range s.PrefixItems {
				parts[i] = typeString(p, false)
			}
			return "[" + strings.Join(parts, ", ") + "]"
		}
		if s.Items == nil {
			return "any[]"
		}
		return typeString(s.Items, true) + "[]"
	case "object":
		if len(s.Properties) == 0 {
			key := "string"
			if s.XMsgpackKey != nil {
				key = typeString(s.XMsgpackKey, false)
			}
			return "map<" + key + ", " + typeString(s.AdditionalProperties, false) + ">"
		}
		parts := make([]string, len(s.Properties))
		for i, p := range s.Properties {
			parts[i] = p.Name + ": " + typeString(p.Schema, false)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case "":
		if len(s.AllOf) > 0 {
			return typeString(s.AllOf[0], inner)
		}
		return "any"
	}
	return s.Type
}

func literal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Only returns a document holding only the call named name and the
// definitions it needs (no channels), and false when doc has no such
// call.
func Only(doc *introspect.Document, name string) (*introspect.Document, bool) {
	m := doc.Method(name)
	if m == nil {
		return nil, false
	}
	out := *doc
	out.Handlers = []introspect.Method{*m}
	out.Channels = nil
	used := map[string]bool{}
	var walk func(s *introspect.Schema)
	walk = func(s *introspect.Schema) {
		if s == nil {
			return
		}
		if n := RefName(s); n != "" && !used[n] {
			used[n] = true
			walk(doc.Defs.Get(n))
		}
		for _, c := range Children(s) {
			walk(c)
		}
	}
	walk(m.Request.Schema)
	walk(m.Response.Schema)
	out.Defs = nil
	for _, d := range doc.Defs {
		if used[d.Name] {
			out.Defs = append(out.Defs, d)
		}
	}
	return &out, true
}

// Children returns the schemas nested in s, in a fixed order.
func Children(s *introspect.Schema) []*introspect.Schema {
	var out []*introspect.Schema
	add := func(c ...*introspect.Schema) {
		for _, x := range c {
			if x != nil {
				out = append(out, x)
			}
		}
	}
	add(s.Items)
	add(s.PrefixItems...)
	for _, p := range s.Properties {
		add(p.Schema)
	}
	add(s.AdditionalProperties, s.PropertyNames, s.XMsgpackKey)
	add(s.AnyOf...)
	add(s.AllOf...)
	add(s.Not)
	return out
}
