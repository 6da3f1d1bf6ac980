package svcdesc

import (
	"math"
	"strings"

	"github.com/swillorg/swill-go/internal/orderedjson"
	"github.com/swillorg/swill-go/introspect"
)

// Member is one member of an [Object].
type Member struct {
	// Name is the member's key.
	Name string
	// Value is the member's value, marshalled with encoding/json.
	Value any
}

// Object is a JSON object whose members keep their order when encoded.
type Object []Member

// MarshalJSON implements json.Marshaler.
func (o Object) MarshalJSON() ([]byte, error) {
	return orderedjson.Object(len(o), func(i int) (string, any) { return o[i].Name, o[i].Value })
}

// maxExampleDepth bounds the nesting of an example, for schemas that
// nest without end.
const maxExampleDepth = 12

// Example returns a JSON value that fits s: the first value of an enum, the
// lowest integer a minimum allows (1 without bounds), a string of the
// format asked for or "example" fitted to the length bounds, one element
// per array (or as many as minItems says), every property of an object in
// order, the first alternative that is not null. A value that would
// nest a type inside itself is null (or, as an array's element, left
// out). Objects are [Object] values, so that their members keep the
// schema's order when marshalled.
func Example(s *introspect.Schema, defs introspect.SchemaMap) any {
	e := exampler{defs: defs, open: map[string]bool{}}
	return e.value(s, 0)
}

type exampler struct {
	defs introspect.SchemaMap
	open map[string]bool
}

func (e *exampler) value(s *introspect.Schema, depth int) any {
	if s == nil || depth > maxExampleDepth {
		return nil
	}
	if name := RefName(s); name != "" {
		if e.open[name] {
			return nil
		}
		e.open[name] = true
		defer delete(e.open, name)
		return e.value(e.defs.Get(name), depth+1)
	}
	switch {
	case len(s.Enum) > 0:
		return s.Enum[0]
	case len(s.AnyOf) > 0:
		for _, a := range s.AnyOf {
			if a != nil && a.Type != "null" {
				return e.value(a, depth+1)
			}
		}
		return nil
	case len(s.AllOf) > 0 && s.Type == "":
		return e.value(s.AllOf[0], depth+1)
	case IsBytes(s):
		return ""
	}
	switch s.Type {
	case "boolean":
		return false
	case "integer":
		return integerExample(s)
	case "number":
		return numberExample(s)
	case "string":
		return stringExample(s)
	case "array":
		if len(s.PrefixItems) > 0 {
			out := make([]any, len(s.PrefixItems))
			for i, p := range s.PrefixItems {
				out[i] = e.value(p, depth+1)
			}
			return out
		}
		if e.open[RefName(s.Items)] {
			return []any{} // a type inside itself: no element
		}
		n := 1
		if s.MinItems != nil && *s.MinItems > n {
			n = min(*s.MinItems, 16)
		}
		if s.MaxItems != nil && *s.MaxItems < n {
			n = *s.MaxItems
		}
		out := make([]any, n)
		for i := range out {
			out[i] = e.value(s.Items, depth+1)
		}
		return out
	case "object":
		out := Object{}
		for _, p := range s.Properties {
			out = append(out, Member{Name: p.Name, Value: e.value(p.Schema, depth+1)})
		}
		return out
	}
	return nil
}

func integerExample(s *introspect.Schema) int64 {
	lo, hi := math.Inf(-1), math.Inf(1)
	if s.Minimum != nil {
		lo = math.Ceil(*s.Minimum)
	}
	if s.ExclusiveMinimum != nil {
		lo = math.Max(lo, math.Floor(*s.ExclusiveMinimum)+1)
	}
	if s.Maximum != nil {
		hi = math.Floor(*s.Maximum)
	}
	if s.ExclusiveMaximum != nil {
		hi = math.Min(hi, math.Ceil(*s.ExclusiveMaximum)-1)
	}
	v := math.Max(math.Min(1, hi), lo)
	return int64(v)
}

func numberExample(s *introspect.Schema) float64 {
	v := 1.5
	switch {
	case s.Minimum != nil && *s.Minimum > v:
		v = *s.Minimum
	case s.ExclusiveMinimum != nil && *s.ExclusiveMinimum >= v:
		v = *s.ExclusiveMinimum + 1
	case s.Maximum != nil && *s.Maximum < v:
		v = *s.Maximum
	case s.ExclusiveMaximum != nil && *s.ExclusiveMaximum <= v:
		v = *s.ExclusiveMaximum - 1
	}
	return v
}

var formatExamples = map[string]string{
	"date-time": "2024-01-02T15:04:05Z",
	"date":      "2024-01-02",
	"time":      "15:04:05",
	"email":     "user@example.com",
	"uri":       "https://example.com/",
	"uuid":      "123e4567-e89b-12d3-a456-426614174000",
	"ipv4":      "192.0.2.1",
	"ipv6":      "2001:db8::1",
	"hostname":  "example.com",
}

func stringExample(s *introspect.Schema) string {
	if v, ok := formatExamples[s.Format]; ok {
		return v
	}
	v := "example"
	if s.MinLength != nil && *s.MinLength > len(v) {
		v += strings.Repeat("x", min(*s.MinLength, 1024)-len(v))
	}
	if s.MaxLength != nil && *s.MaxLength < len(v) {
		v = v[:*s.MaxLength]
	}
	return v
}
