package introspect_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/rpc"
)

type chatLine struct {
	Room string   `msgpack:"room" validate:"required"`
	Text string   `msgpack:"text" validate:"max=500"`
	From *chatWho `msgpack:"from"`
}

type chatWho struct {
	Name string `msgpack:"name"`
}

// TestDocumentChannels checks how a document lists channels: in their
// order, their message types in the same $defs as the handlers' types,
// an untyped channel's message as {}, and the exact JSON of each field.
func TestDocumentChannels(t *testing.T) {
	doc := introspect.NewDocument("1", []introspect.Spec{{
		Name: "who", Kind: rpc.KindUnary, Request: reflect.TypeFor[string](), Response: reflect.TypeFor[chatWho](),
	}},
		introspect.ChannelSpec{Pattern: "chat.*", Glob: true, Message: reflect.TypeFor[chatLine](), Doc: "Rooms.",
			HistorySize: 100, HistoryTTL: 90 * time.Second, JoinLeave: true, Publish: true},
		introspect.ChannelSpec{Pattern: "feed"},
	)
	b, err := json.Marshal(doc.Channels)
	require.NoError(t, err)
	assert.JSONEq(t, `[
	  {"pattern": "chat.*", "glob": true, "doc": "Rooms.", "message": {"$ref": "#/$defs/chatLine"},
	   "history": {"size": 100, "ttl_ms": 90000}, "presence": true, "join_leave": true, "publish": true},
	  {"pattern": "feed", "glob": false, "doc": "", "message": {},
	   "history": null, "presence": false, "join_leave": false, "publish": false}
	]`, string(b))

	var defs []string
	for _, d := range doc.Defs {
		defs = append(defs, d.Name)
	}
	assert.Equal(t, []string{"chatLine", "chatWho"}, defs, "one definition per struct, shared with the handlers")
	line := doc.Defs.Get("chatLine")
	assert.Equal(t, []string{"room"}, line.Required)
	assert.Equal(t, 500, *line.Properties.Get("text").MaxLength)
	assert.Equal(t, "#/$defs/chatWho", line.Properties.Get("from").AnyOf[0].Ref)

	assert.Same(t, &doc.Channels[1], doc.Channel("feed"))
	assert.Nil(t, doc.Channel("chat.lobby"), "Channel looks declarations up by pattern, not by matching")

	// MsgPack carries the same document.
	raw, err := msgpack.Marshal(doc)
	require.NoError(t, err)
	var back introspect.Document
	require.NoError(t, msgpack.Unmarshal(raw, &back))
	assert.Equal(t, doc.Channels, back.Channels)
}

// TestDocumentWithoutChannels checks that a service without channels
// writes no "channels" field, so documents of such services are as
// before.
func TestDocumentWithoutChannels(t *testing.T) {
	b, err := json.Marshal(introspect.NewDocument("1", nil))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	assert.NotContains(t, m, "channels")
}
