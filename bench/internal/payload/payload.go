package payload

import (
	"bytes"
	"fmt"
)

// Sizes of payload the suite measures.
const (
	// Small is a struct of a few fields, about 60 bytes of MsgPack.
	Small = "small"
	// Large is the same struct carrying 4 KiB of bytes.
	Large = "4k"
)

// Kinds lists the payload sizes in report order.
var Kinds = []string{Small, Large}

// LargeDataSize is the length of Data in a [Large] payload.
const LargeDataSize = 4096

// Payload is the message of every call and every streamed item. It is
// encoded as a MsgPack map keyed by the field tags, like a typical RPC
// struct.
type Payload struct {
	ID    int64    `msgpack:"id"`
	Name  string   `msgpack:"name"`
	Score float64  `msgpack:"score"`
	Tags  []string `msgpack:"tags"`
	Data  []byte   `msgpack:"data,omitempty"`
}

// StreamRequest asks a server for Count copies of Item, numbered 0 to
// Count-1 in their ID.
type StreamRequest struct {
	Count int     `msgpack:"count"`
	Item  Payload `msgpack:"item"`
}

var largeData = func() []byte {
	b := make([]byte, LargeDataSize)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}()

// New returns a payload of the given kind with the given ID. The Data of a
// [Large] payload is shared and must not be modified.
func New(kind string, id int64) Payload {
	p := Payload{ID: id, Name: "swill-bench", Score: 3.25, Tags: []string{"alpha", "beta"}}
	if kind == Large {
		p.Data = largeData
	}
	return p
}

// Valid reports whether kind names a payload size.
func Valid(kind string) bool { return kind == Small || kind == Large }

// Apply is the work of the unary handler of every server: the request comes
// back with its ID incremented.
func Apply(p Payload) Payload {
	p.ID++
	return p
}

// StreamItem is item i of a server stream answering req.
func StreamItem(req *StreamRequest, i int) Payload {
	p := req.Item
	p.ID = int64(i)
	return p
}

// CheckReply returns an error unless got is what [Apply] makes of req.
func CheckReply(req, got *Payload) error {
	if got.ID != req.ID+1 {
		return fmt.Errorf("reply id %d, want %d", got.ID, req.ID+1)
	}
	return checkBody(req, got)
}

// CheckItem returns an error unless got is item i of a stream of req.
func CheckItem(req *StreamRequest, i int, got *Payload) error {
	if got.ID != int64(i) {
		return fmt.Errorf("stream item id %d, want %d", got.ID, i)
	}
	return checkBody(&req.Item, got)
}

func checkBody(want, got *Payload) error {
	if got.Name != want.Name || got.Score != want.Score || len(got.Tags) != len(want.Tags) {
		return fmt.Errorf("reply body %+v differs from request %+v", *got, *want)
	}
	for i := range got.Tags {
		if got.Tags[i] != want.Tags[i] {
			return fmt.Errorf("reply tag %d is %q, want %q", i, got.Tags[i], want.Tags[i])
		}
	}
	if !bytes.Equal(got.Data, want.Data) {
		return fmt.Errorf("reply data of %d bytes differs from the request's %d", len(got.Data), len(want.Data))
	}
	return nil
}
