package introspect

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/typeinfo"
	"github.com/swillorg/swill-go/rpc"
	"github.com/vmihailenco/msgpack/v5"
)

// Spec is what this package needs to know of one handler.
type Spec struct {
	// Name is the name clients call the handler by.
	Name string
	// Kind is the handler's kind of call.
	Kind rpc.Kind
	// Doc is the handler's documentation, possibly empty.
	Doc string
	// Request and Response are the Go types of one request and one
	// response message (one item of a stream).
	Request, Response reflect.Type
	// Errors are the error codes the handler declares.
	Errors []rpc.Code
}

// Entry is one item of the swill.introspect stream: a handler in the
// reference's format.
type Entry struct {
	// Name is the name clients call the handler by.
	Name string `msgpack:"name" json:"name"`
	// Request describes what the client sends.
	Request Message `msgpack:"request" json:"request"`
	// Response describes what the server sends back.
	Response Message `msgpack:"response" json:"response"`
}

// Message describes one side of a call in the reference's format.
type Message struct {
	// Streams is set when this side sends a stream of messages.
	Streams bool `msgpack:"streams" json:"streams"`
	// Type is the type of one message.
	Type Type `msgpack:"type" json:"type"`
}

// Type is a type in the reference's format: its name in Python's
// spelling and, for generic and struct types, its arguments.
type Type struct {
	// Type is the type's name: int, float, str, bytes, bool, datetime,
	// list, dict, tuple, Optional, Any, None, TypedDict or a struct's
	// name.
	Type string `msgpack:"type" json:"type"`
	// Arguments are the element types of list, dict, tuple and Optional
	// under integer keys, or a struct's fields under their wire names.
	// Absent when empty.
	Arguments Arguments `msgpack:"arguments,omitempty" json:"arguments,omitempty"`
}

// Argument is one type argument: Key is an int for the element types of
// generic types and a string (the wire name) for struct fields.
type Argument struct {
	// Key is the argument's position (int) or field name (string).
	Key any
	// Type is the argument's type.
	Type Type
}

// Arguments are a type's arguments, in order. They encode as a map (in
// JSON, integer keys become strings).
type Arguments []Argument

// Get returns the argument under key (an int or a string) and whether
// there is one.
func (a Arguments) Get(key any) (Type, bool) {
	for _, arg := range a {
		if arg.Key == key {
			return arg.Type, true
		}
	}
	return Type{}, false
}

// EncodeMsgpack implements msgpack.CustomEncoder: a map in order.
func (a Arguments) EncodeMsgpack(enc *msgpack.Encoder) error {
	if err := enc.EncodeMapLen(len(a)); err != nil {
		return err
	}
	for _, arg := range a {
		if err := enc.Encode(arg.Key); err != nil {
			return err
		}
		if err := enc.Encode(&arg.Type); err != nil {
			return err
		}
	}
	return nil
}

// DecodeMsgpack implements msgpack.CustomDecoder. Integer keys become
// ints, string keys strings.
func (a *Arguments) DecodeMsgpack(dec *msgpack.Decoder) error {
	n, err := dec.DecodeMapLen()
	if err != nil {
		return err
	}
	*a = nil
	for i := 0; i < n; i++ {
		k, err := dec.DecodeInterfaceLoose()
		if err != nil {
			return err
		}
		switch kk := k.(type) {
		case int64:
			k = int(kk)
		case uint64:
			k = int(kk)
		case string:
		default:
			return fmt.Errorf("introspect: argument key %v (%T) is neither an integer nor a string", k, k)
		}
		var t Type
		if err := dec.Decode(&t); err != nil {
			return err
		}
		*a = append(*a, Argument{Key: k, Type: t})
	}
	return nil
}

// MarshalJSON implements json.Marshaler: an object in order, integer keys
// written as strings.
func (a Arguments) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, arg := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(fmt.Sprint(arg.Key))
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(arg.Type)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON implements json.Unmarshaler. Keys stay strings; see
// [Type.UnmarshalJSON] for generic types.
func (a *Arguments) UnmarshalJSON(data []byte) error {
	*a = nil
	return decodeJSONObject(data, func(key string, dec *json.Decoder) error {
		var t Type
		if err := dec.Decode(&t); err != nil {
			return err
		}
		*a = append(*a, Argument{Key: key, Type: t})
		return nil
	})
}

// UnmarshalJSON implements json.Unmarshaler: the argument keys of list,
// dict, tuple and Optional become ints again.
func (t *Type) UnmarshalJSON(data []byte) error {
	type plain Type
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	if genericNames[p.Type] {
		for i, arg := range p.Arguments {
			if s, ok := arg.Key.(string); ok {
				n, err := strconv.Atoi(s)
				if err != nil {
					return fmt.Errorf("introspect: %s argument key %q is not an integer", p.Type, s)
				}
				p.Arguments[i].Key = n
			}
		}
	}
	*t = Type(p)
	return nil
}

var genericNames = map[string]bool{"list": true, "dict": true, "tuple": true, "Optional": true}

// decodeJSONObject calls fn for each key of the JSON object in data, in
// order, with the decoder positioned on the key's value.
func decodeJSONObject(data []byte, fn func(key string, dec *json.Decoder) error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("introspect: want a JSON object, got %v", tok)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if err := fn(tok.(string), dec); err != nil {
			return err
		}
	}
	_, err = dec.Token()
	return err
}

// NewEntry returns the swill.introspect item of the handler s.
func NewEntry(s Spec) Entry {
	return Entry{
		Name:     s.Name,
		Request:  Message{Streams: s.Kind.RequestStreams(), Type: TypeOf(s.Request)},
		Response: Message{Streams: s.Kind.ResponseStreams(), Type: TypeOf(s.Response)},
	}
}

// TypeOf describes t in the reference's format; see the package
// documentation for the mapping. A nil t is Any.
func TypeOf(t reflect.Type) Type {
	return typeOf(t, map[reflect.Type]bool{})
}

func typeOf(t reflect.Type, stack map[reflect.Type]bool) Type {
	if t == nil {
		return Type{Type: "Any"}
	}
	switch classify(t) {
	case classNone:
		return Type{Type: "None"}
	case classTime:
		return Type{Type: "datetime"}
	case classOpaque:
		return Type{Type: "Any"}
	case classBinary, classText:
		return Type{Type: "bytes"}
	}
	generic := func(name string, elems ...reflect.Type) Type {
		out := Type{Type: name}
		for i, e := range elems {
			out.Arguments = append(out.Arguments, Argument{Key: i, Type: typeOf(e, stack)})
		}
		return out
	}
	switch t.Kind() {
	case reflect.Bool:
		return Type{Type: "bool"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Type{Type: "int"}
	case reflect.Float32, reflect.Float64:
		return Type{Type: "float"}
	case reflect.String:
		return Type{Type: "str"}
	case reflect.Pointer:
		return generic("Optional", t.Elem())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return Type{Type: "bytes"}
		}
		return generic("list", t.Elem())
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return Type{Type: "bytes"}
		}
		elems := make([]reflect.Type, t.Len())
		for i := range elems {
			elems[i] = t.Elem()
		}
		return generic("tuple", elems...)
	case reflect.Map:
		return generic("dict", t.Key(), t.Elem())
	case reflect.Struct:
		name := StructName(t)
		if name == "" {
			name = "TypedDict"
		}
		out := Type{Type: name}
		if stack[t] {
			return out
		}
		stack[t] = true
		defer delete(stack, t)
		for _, f := range typeinfo.Fields(t) {
			out.Arguments = append(out.Arguments, Argument{Key: f.Name, Type: typeOf(f.Type, stack)})
		}
		return out
	}
	return Type{Type: "Any"}
}

// class sorts out the types whose encoding is not decided by their kind.
type class int

const (
	classKind   class = iota // encoded according to its kind
	classNone                // codec.None: nil
	classTime                // time.Time: the timestamp extension
	classOpaque              // encodes itself: anything
	classBinary              // encoding.BinaryMarshaler: bin
	classText                // encoding.TextMarshaler: bin holding text
)

var (
	noneType            = reflect.TypeFor[codec.None]()
	timeType            = reflect.TypeFor[time.Time]()
	customEncoderType   = reflect.TypeFor[msgpack.CustomEncoder]()
	marshalerType       = reflect.TypeFor[msgpack.Marshaler]()
	binaryMarshalerType = reflect.TypeFor[encoding.BinaryMarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
)

// classify follows the order in which the MsgPack encoder picks an
// encoding for t.
func classify(t reflect.Type) class {
	switch t {
	case noneType:
		return classNone
	case timeType:
		return classTime
	}
	// A pointer is nil or its element, whatever methods it has: the
	// encoder writes nil for nil, and the element's encoding otherwise.
	if t.Kind() == reflect.Interface || t.Kind() == reflect.Pointer {
		return classKind
	}
	implements := func(i reflect.Type) bool {
		return t.Implements(i) || reflect.PointerTo(t).Implements(i)
	}
	switch {
	case implements(customEncoderType), implements(marshalerType):
		return classOpaque
	case implements(binaryMarshalerType):
		return classBinary
	case implements(textMarshalerType):
		return classText
	}
	return classKind
}

var qualified = regexp.MustCompile(`(?:[\w.-]+/)*[\w-]+\.(\w+)`)
var nonIdent = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// StructName returns the name introspection gives the struct type t: its
// Go name, with the type arguments of a generic type appended after
// underscores (Page[pkg.Item] is Page_Item). It is "" for an unnamed
// struct.
func StructName(t reflect.Type) string {
	name := t.Name()
	if !strings.Contains(name, "[") {
		return name
	}
	name = qualified.ReplaceAllString(name, "$1")
	name = nonIdent.ReplaceAllString(name, "_")
	return strings.TrimRight(name, "_")
}
