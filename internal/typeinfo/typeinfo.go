package typeinfo

import (
	"reflect"
	"strings"
	"sync"
)

// Field is a struct field as the MsgPack encoding sees it.
type Field struct {
	// Name is the wire name: the msgpack tag, else the json tag, else the
	// Go field name.
	Name string
	// Index is the field's index path for reflect.Value.FieldByIndex.
	Index []int
	// Type is the field's Go type.
	Type reflect.Type
	// OmitEmpty is set when the tag asks for omitempty.
	OmitEmpty bool
	// GoName is the Go field name (the last element of the path).
	GoName string
	// Tag is the whole struct tag.
	Tag reflect.StructTag
}

var cache sync.Map // reflect.Type -> []Field

// Fields returns the wire fields of struct type t, in declaration order,
// with untagged embedded structs flattened as the encoder does.
func Fields(t reflect.Type) []Field {
	if f, ok := cache.Load(t); ok {
		return f.([]Field)
	}
	fs := collect(t, nil, map[reflect.Type]bool{})
	cache.Store(t, fs)
	return fs
}

func collect(t reflect.Type, index []int, seen map[reflect.Type]bool) []Field {
	if seen[t] {
		return nil
	}
	seen[t] = true
	defer delete(seen, t)
	var out []Field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, opts, tagged := tagName(sf)
		if name == "-" {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		if sf.Anonymous && !tagged {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, collect(ft, idx, seen)...)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out = append(out, Field{
			Name:      name,
			Index:     idx,
			Type:      sf.Type,
			OmitEmpty: strings.Contains(opts, "omitempty"),
			GoName:    sf.Name,
			Tag:       sf.Tag,
		})
	}
	return out
}

func tagName(sf reflect.StructField) (name, opts string, tagged bool) {
	tag, ok := sf.Tag.Lookup("msgpack")
	if !ok {
		tag, ok = sf.Tag.Lookup("json")
	}
	if !ok {
		return "", "", false
	}
	name, opts, _ = strings.Cut(tag, ",")
	return name, opts, name != ""
}

// WireName returns the wire name of the field at Go name goName in struct
// type t (following embedded structs), or goName when there is none.
func WireName(t reflect.Type, goName string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return goName
	}
	for _, f := range Fields(t) {
		if f.GoName == goName {
			return f.Name
		}
	}
	return goName
}
