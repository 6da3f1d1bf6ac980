package jsonconv_test

import (
	"fmt"

	"github.com/swillorg/swill-go/cmd/swill/internal/jsonconv"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/introspect"
)

// JSON in: integers stay integers; where the schema says bytes, base64
// becomes binary.
func ExampleDecode() {
	s := &introspect.Schema{Type: "object", Properties: introspect.SchemaMap{
		{Name: "n", Schema: &introspect.Schema{Type: "integer"}},
		{Name: "blob", Schema: &introspect.Schema{Type: "string", ContentEncoding: "base64", XMsgpack: "bin"}},
	}}
	v, err := jsonconv.Decode([]byte(`{"n": 42, "blob": "aGk=", "f": 2.5}`), s, nil)
	if err != nil {
		panic(err)
	}
	m := v.(map[string]any)
	fmt.Printf("%T %v\n", m["n"], m["n"])
	fmt.Printf("%T %q\n", m["blob"], m["blob"])
	fmt.Printf("%T %v\n", m["f"], m["f"])
	// Output:
	// int64 42
	// []uint8 "hi"
	// float64 2.5
}

// JSON out: what MsgPack carries and JSON cannot say is spelled out.
func ExampleMarshal() {
	b, _ := codec.Marshal(map[string]any{"blob": []byte("hi"), "byID": map[int]string{7: "seven"}})
	var v any
	if err := codec.Unmarshal(b, &v); err != nil {
		panic(err)
	}
	out, err := jsonconv.Marshal(v, false)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output:
	// {"blob":"aGk=","byID":{"7":"seven"}}
}
