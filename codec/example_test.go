package codec_test

import (
	"errors"
	"fmt"

	"github.com/swillorg/swill-go/codec"
)

// A struct travels as a map of its wire names (the msgpack tag, else the
// json tag) in the order of its fields, integers in their smallest form;
// the keys of a Go map are sorted.
func ExampleMarshal() {
	type point struct {
		X    int    `msgpack:"x"`
		Y    int    `json:"y"`
		Name string `msgpack:"name"`
	}
	b, err := codec.Marshal(point{X: 1, Y: 300, Name: "p"})
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", b)

	var back map[string]any
	if err := codec.Unmarshal(b, &back); err != nil {
		panic(err)
	}
	fmt.Println(back)
	// Output:
	// 83 a1 78 01 a1 79 cd 01 2c a4 6e 61 6d 65 a1 70
	// map[name:p x:1 y:300]
}

// An integer that does not fit the Go type it is decoded into is an
// error, never a truncated value.
func ExampleRangeError() {
	b, _ := codec.Marshal(map[string]int{"level": 300})
	var v struct {
		Level uint8 `msgpack:"level"`
	}
	err := codec.Unmarshal(b, &v)
	var re *codec.RangeError
	if errors.As(err, &re) {
		fmt.Println(re.Path, re.Value, re.Type)
	}
	fmt.Println(err)
	// Output:
	// field "level" 300 uint8
	// codec: field "level": 300 does not fit in uint8
}

// None is the result of a call that returns nothing: it encodes as nil,
// and decoding into it accepts anything.
func ExampleNone() {
	b, _ := codec.Marshal(codec.None{})
	fmt.Printf("% x\n", b)
	var n codec.None
	fmt.Println(codec.Unmarshal([]byte{0x92, 0x01, 0x02}, &n))
	// Output:
	// c0
	// <nil>
}
