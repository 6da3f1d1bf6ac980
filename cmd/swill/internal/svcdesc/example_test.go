package svcdesc_test

import (
	"encoding/json"
	"fmt"

	"github.com/swillorg/swill-go/cmd/swill/internal/svcdesc"
	"github.com/swillorg/swill-go/introspect"
)

func ExampleTypeString() {
	n := 2
	tuple := &introspect.Schema{Type: "array", PrefixItems: []*introspect.Schema{{Type: "integer"}, {Type: "integer"}}, MinItems: &n, MaxItems: &n}
	list := &introspect.Schema{AnyOf: []*introspect.Schema{{Type: "array", Items: &introspect.Schema{Ref: "#/$defs/User"}}, {Type: "null"}}}
	fmt.Println(svcdesc.TypeString(tuple))
	fmt.Println(svcdesc.TypeString(list))
	// Output:
	// [integer, integer]
	// User[] | null
}

func ExampleExample() {
	min := 13.0
	minLen := 2
	s := &introspect.Schema{Type: "object", Properties: introspect.SchemaMap{
		{Name: "name", Schema: &introspect.Schema{Type: "string", MinLength: &minLen}},
		{Name: "email", Schema: &introspect.Schema{Type: "string", Format: "email"}},
		{Name: "age", Schema: &introspect.Schema{Type: "integer", Minimum: &min}},
	}}
	b, _ := json.Marshal(svcdesc.Example(s, nil))
	fmt.Println(string(b))
	// Output:
	// {"name":"example","email":"user@example.com","age":13}
}
