package pubsub_test

import (
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/swill"
)

type presenceNote struct {
	Who  string    `msgpack:"who" validate:"required"`
	Seen time.Time `msgpack:"seen"`
}

// TestDescribeListsChannels checks that swill.describe, asked over a real
// connection, lists the hub's declared channels with their message
// schemas and settings, and that swill.introspect lists none of them.
func TestDescribeListsChannels(t *testing.T) {
	f := start(t, pubsub.WithChannels(
		pubsub.Channel[chatMessage]("chat.*", pubsub.WithHistory(50, time.Minute), pubsub.ChannelDoc("Chat rooms.")),
		pubsub.Channel[presenceNote]("status", pubsub.WithJoinLeave()),
		pubsub.Untyped("misc.[ab]?"),
	))
	c := dial(t, f.url)
	ctx := context.Background()
	doc, err := clientgo.Call[any, *introspect.Document](ctx, c, swill.DescribeRPC, nil)
	require.NoError(t, err)

	require.Len(t, doc.Channels, 3)
	chat := doc.Channel("chat.*")
	require.NotNil(t, chat)
	assert.True(t, chat.Glob)
	assert.Equal(t, "Chat rooms.", chat.Doc)
	assert.Equal(t, &introspect.ChannelHistory{Size: 50, TTLMillis: 60000}, chat.History)
	assert.False(t, chat.Presence)
	assert.False(t, chat.Publish, "without OnPublish clients may not publish")
	assert.Equal(t, "#/$defs/chatMessage", chat.Message.Ref)
	def := doc.Defs.Get("chatMessage")
	require.NotNil(t, def, "the message type is defined in $defs")
	assert.Equal(t, []string{"user", "text"}, names(def.Properties))

	status := doc.Channel("status")
	require.NotNil(t, status)
	assert.False(t, status.Glob)
	assert.Nil(t, status.History)
	assert.True(t, status.Presence)
	assert.True(t, status.JoinLeave)
	note := doc.Defs.Get("presenceNote")
	require.NotNil(t, note)
	assert.Equal(t, []string{"who"}, note.Required)

	misc := doc.Channel("misc.[ab]?")
	require.NotNil(t, misc)
	assert.True(t, misc.Glob)
	b, err := json.Marshal(misc.Message)
	require.NoError(t, err)
	assert.JSONEq(t, `{}`, string(b), "an untyped channel carries any value")

	// The order is the declaration order.
	assert.Equal(t, []string{"chat.*", "status", "misc.[ab]?"},
		[]string{doc.Channels[0].Pattern, doc.Channels[1].Pattern, doc.Channels[2].Pattern})

	st, err := clientgo.CallServerStream[any, introspect.Entry](ctx, c, swill.IntrospectRPC, nil)
	require.NoError(t, err)
	for {
		e, err := st.Recv()
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		t.Errorf("swill.introspect lists %q; it lists only registered handlers", e.Name)
	}
}

// TestDescribeChannelsPublish checks that the document says clients may
// publish when the hub has an OnPublish hook.
func TestDescribeChannelsPublish(t *testing.T) {
	hub, err := pubsub.New(
		pubsub.WithChannels(pubsub.Channel[chatMessage]("chat.*")),
		pubsub.WithHooks(pubsub.Hooks{OnPublish: func(context.Context, *pubsub.PublishEvent) error { return nil }}),
	)
	require.NoError(t, err)
	defer hub.Close()
	got := hub.DescribeChannels()
	require.Len(t, got, 1)
	assert.Equal(t, introspect.ChannelSpec{Pattern: "chat.*", Glob: true, Message: got[0].Message, Publish: true}, got[0])
	assert.Equal(t, "chatMessage", got[0].Message.Name())

	var _ swill.ChannelDescriber = hub
}

func names(m introspect.SchemaMap) []string {
	var out []string
	for _, p := range m {
		out = append(out, p.Name)
	}
	return out
}
