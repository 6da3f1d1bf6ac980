package wire

import (
	"errors"
	"reflect"
	"strings"
	"time"
)

// The MsgPack library, asked for a map where the data holds an extension
// value (a timestamp, say), skips the extension's header and reads its
// payload as the map: a 10-byte timestamp whose payload starts with a map32
// header then claims up to four billion entries, and decoding into a
// map[string]any allocates a table that size before reading one of them,
// enough to take the process down. skip cannot see it, as the extension is
// well-formed. So before the library decodes data that holds such an
// extension, extMisplaced checks, against the Go type, that no extension
// stands where a map, a slice or a struct is expected.

var errExtAsContainer = errors.New("msgpack: an extension value (a timestamp) where a map, array or struct is expected")

// mayHideMap reports whether data may hold an extension value whose payload
// starts with a map16 or map32 header. It looks at bytes, not values, so it
// can answer yes for data that holds none: the check it guards is then
// merely done for nothing.
func mayHideMap(b []byte) bool {
	at := func(i int) bool { return i < len(b) && (b[i] == 0xde || b[i] == 0xdf) }
	for i, c := range b {
		switch {
		case c >= 0xd4 && c <= 0xd8: // fixext: code, type, payload
			if at(i + 2) {
				return true
			}
		case c == 0xc7: // ext8: code, length, type, payload
			if at(i + 3) {
				return true
			}
		case c == 0xc8:
			if at(i + 4) {
				return true
			}
		case c == 0xc9:
			if at(i + 6) {
				return true
			}
		}
	}
	return false
}

// extMisplaced decodes data generically, which reads extensions as
// extensions, and walks the result against t: it returns errExtAsContainer
// where an extension stands for a map, a slice or a struct, or the error of
// the generic decoding.
func extMisplaced(data []byte, t reflect.Type) error {
	var v any
	if err := Unmarshal(data, &v); err != nil {
		return err
	}
	if !extFits(t, v, 0) {
		return errExtAsContainer
	}
	return nil
}

// extFits reports whether v, a generically decoded value, has no extension
// (time.Time) where t has a map, a slice, an array or a struct other than
// time.Time. It errs towards yes where it cannot tell: the library then
// decodes, as before.
func extFits(t reflect.Type, v any, depth int) bool {
	if depth > MaxDepth || v == nil {
		return true
	}
	for t.Kind() == reflect.Pointer {
		if decodesItself(t) {
			return true
		}
		t = t.Elem()
	}
	if decodesItself(t) || t == timeType {
		return true
	}
	_, isExt := v.(time.Time)
	switch t.Kind() {
	case reflect.Map:
		if isExt {
			return false
		}
		return eachEntry(v, func(k, e any) bool {
			return extFits(t.Key(), k, depth+1) && extFits(t.Elem(), e, depth+1)
		})
	case reflect.Slice, reflect.Array:
		if isExt {
			return t.Elem().Kind() == reflect.Uint8 // bytes: the library refuses an extension itself
		}
		if xs, ok := v.([]any); ok {
			for _, e := range xs {
				if !extFits(t.Elem(), e, depth+1) {
					return false
				}
			}
		}
		return true
	case reflect.Struct:
		if isExt {
			return false
		}
		fields := structFields(t)
		return eachEntry(v, func(k, e any) bool {
			name, _ := k.(string)
			ft, ok := fields[name]
			return !ok || extFits(ft, e, depth+1)
		})
	}
	return true
}

func eachEntry(v any, fn func(k, e any) bool) bool {
	switch m := v.(type) {
	case map[string]any:
		for k, e := range m {
			if !fn(k, e) {
				return false
			}
		}
	case map[any]any:
		for k, e := range m {
			if !fn(k, e) {
				return false
			}
		}
	}
	return true
}

// structFields maps the names the library decodes a struct's fields from
// (the msgpack tag, else the json tag, else the field's name; embedded
// structs' fields as their own) to the fields' types.
func structFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var add func(t reflect.Type, depth int)
	add = func(t reflect.Type, depth int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag, ok := f.Tag.Lookup("msgpack")
			if !ok {
				tag = f.Tag.Get("json")
			}
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" {
				continue
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if f.Anonymous && name == "" && ft.Kind() == reflect.Struct && depth < 8 {
				add(ft, depth+1)
				continue
			}
			if strings.Contains(opts, "inline") && ft.Kind() == reflect.Struct && depth < 8 {
				add(ft, depth+1)
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			out[name] = f.Type
		}
	}
	add(t, 0)
	return out
}
