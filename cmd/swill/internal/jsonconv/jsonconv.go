package jsonconv

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/swillorg/swill-go/cmd/swill/internal/svcdesc"
	"github.com/swillorg/swill-go/introspect"
)

// Decode parses data, which must hold exactly one JSON value, into a value
// for the MsgPack encoder; s (nil when unknown) is the value's JSON Schema
// and defs the definitions its references point to.
func Decode(data []byte, s *introspect.Schema, defs introspect.SchemaMap) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("invalid JSON: no value")
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid JSON: more than one value")
	}
	c := converter{defs: defs}
	return c.convert(v, s, "$")
}

type converter struct {
	defs introspect.SchemaMap
}

func (c *converter) convert(v any, s *introspect.Schema, path string) (any, error) {
	s = svcdesc.Resolve(s, c.defs)
	if len(s.AnyOf) > 0 {
		s = c.alternative(v, s.AnyOf)
	}
	switch x := v.(type) {
	case json.Number:
		return number(x, s != nil && s.Type == "integer"), nil
	case string:
		switch {
		case s == nil:
		case svcdesc.IsBytes(s):
			b, err := base64.StdEncoding.DecodeString(x)
			if err != nil {
				return nil, fmt.Errorf("%s: bytes must be written in base64: %w", path, err)
			}
			return b, nil
		case svcdesc.IsTimestamp(s):
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return nil, fmt.Errorf("%s: a time must be written in RFC 3339: %w", path, err)
			}
			return t, nil
		}
		return x, nil
	case []any:
		for i, e := range x {
			var es *introspect.Schema
			switch {
			case s == nil:
			case i < len(s.PrefixItems):
				es = s.PrefixItems[i]
			default:
				es = s.Items
			}
			cv, err := c.convert(e, es, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			x[i] = cv
		}
		return x, nil
	case map[string]any:
		if s != nil && s.XMsgpackKey != nil {
			return c.keyedMap(x, s, path)
		}
		for k, e := range x {
			cv, err := c.convert(e, c.property(s, k), path+"."+k)
			if err != nil {
				return nil, err
			}
			x[k] = cv
		}
		return x, nil
	}
	return v, nil
}

// property returns the schema of member k of an object described by s.
func (c *converter) property(s *introspect.Schema, k string) *introspect.Schema {
	if s == nil {
		return nil
	}
	if p := s.Properties.Get(k); p != nil {
		return p
	}
	return s.AdditionalProperties
}

// keyedMap converts a JSON object into a map whose keys have the type
// s's x-msgpack-key describes.
func (c *converter) keyedMap(x map[string]any, s *introspect.Schema, path string) (any, error) {
	ks := svcdesc.Resolve(s.XMsgpackKey, c.defs)
	out := make(map[any]any, len(x))
	for k, e := range x {
		var key any = k
		switch ks.Type {
		case "integer":
			n, err := strconv.ParseInt(k, 10, 64)
			if err != nil {
				u, uerr := strconv.ParseUint(k, 10, 64)
				if uerr != nil {
					return nil, fmt.Errorf("%s: key %q is not an integer", path, k)
				}
				key = u
			} else {
				key = n
			}
		case "number":
			f, err := strconv.ParseFloat(k, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: key %q is not a number", path, k)
			}
			key = f
		case "boolean":
			b, err := strconv.ParseBool(k)
			if err != nil {
				return nil, fmt.Errorf("%s: key %q is not a boolean", path, k)
			}
			key = b
		}
		cv, err := c.convert(e, s.AdditionalProperties, path+"."+k)
		if err != nil {
			return nil, err
		}
		out[key] = cv
	}
	return out, nil
}

// alternative picks the alternative of an anyOf that fits the JSON type
// of v, or nil when none does.
func (c *converter) alternative(v any, alts []*introspect.Schema) *introspect.Schema {
	want := jsonType(v)
	for _, a := range alts {
		r := svcdesc.Resolve(a, c.defs)
		t := r.Type
		if t == "integer" {
			t = "number"
		}
		if t == want {
			return r
		}
	}
	return nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

// number converts a JSON number exactly: an integer is an int64, or a
// uint64 when too large for one; anything else (or an integer out of
// range) is a float64. With integer set, a float with an integral value
// in range becomes an integer too.
func number(n json.Number, integer bool) any {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return u
		}
	}
	f, _ := strconv.ParseFloat(s, 64)
	if integer && f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 {
		return int64(f)
	}
	return f
}

// ToJSON returns v, a value decoded from MsgPack, with every part of it
// turned into something encoding/json writes faithfully; see the package
// documentation for the rules.
func ToJSON(v any) any {
	switch x := v.(type) {
	case nil, bool, string,
		int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64:
		return x
	case float32:
		return float(float64(x))
	case float64:
		return float(x)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = ToJSON(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = ToJSON(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[Key(k)] = ToJSON(e)
		}
		return out
	}
	// Other types (typed slices and maps, structs) are walked by
	// reflection: msgpack decodes into them only when asked to.
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = ToJSON(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			out[Key(it.Key().Interface())] = ToJSON(it.Value().Interface())
		}
		return out
	}
	return v
}

func float(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return f
}

// Key writes a map key decoded from MsgPack as a JSON object key.
func Key(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case nil:
		return "null"
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	}
	b, err := json.Marshal(ToJSON(k))
	if err != nil {
		return fmt.Sprint(k)
	}
	return string(b)
}

// Marshal writes v (after [ToJSON]) as JSON without escaping <, > and &:
// on one line, or indented by two spaces when indent is set. There is no
// trailing newline. Object keys are sorted.
func Marshal(v any, indent bool) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(ToJSON(v)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
