package swill_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/swill"
)

// testExtension is an extension with one built-in call, and channels
// when it has some.
type testExtension struct {
	name     string
	channels []introspect.ChannelSpec
}

func (x *testExtension) Builtins() []*swill.Handler {
	return []*swill.Handler{swill.Unary(x.name, func(ctx context.Context, _ codec.None) (string, error) { return "ok", nil })}
}

// describingExtension also declares channels.
type describingExtension struct{ testExtension }

func (x *describingExtension) DescribeChannels() []introspect.ChannelSpec { return x.channels }

type tick struct {
	N int `msgpack:"n"`
}

// TestDescribeExtensionChannels mounts extensions after the first
// swill.describe: the document lists the channels of those that describe
// them, in mount order, and never their built-in calls; swill.introspect
// lists neither.
func TestDescribeExtensionChannels(t *testing.T) {
	srv := swilltest.NewServer()
	ts := swilltest.Start(t, srv)
	c := swilltest.Dial(t, ts.URL)
	assert.Empty(t, describeRaw(t, c, 1).Channels)

	require.NoError(t, srv.Mount(&testExtension{name: "swill.plain"}))
	assert.Empty(t, describeRaw(t, c, 2).Channels, "an extension that describes no channels adds none")

	require.NoError(t, srv.Mount(
		&describingExtension{testExtension{name: "swill.ticks", channels: []introspect.ChannelSpec{
			{Pattern: "ticks", Message: reflect.TypeFor[tick](), HistorySize: 10, Doc: "Ticks."},
		}}},
		&describingExtension{testExtension{name: "swill.any", channels: []introspect.ChannelSpec{
			{Pattern: "any.*", Glob: true, Presence: true, Publish: true},
		}}},
	))
	doc := describeRaw(t, c, 3)
	assert.Empty(t, doc.Handlers, "built-in calls are not listed")
	require.Len(t, doc.Channels, 2)
	assert.Equal(t, introspect.Channel{
		Pattern: "ticks", Doc: "Ticks.", Message: &introspect.Schema{Ref: "#/$defs/tick"},
		History: &introspect.ChannelHistory{Size: 10},
	}, doc.Channels[0])
	assert.Equal(t, introspect.Channel{
		Pattern: "any.*", Glob: true, Message: &introspect.Schema{}, Presence: true, Publish: true,
	}, doc.Channels[1])
	require.NotNil(t, doc.Defs.Get("tick"))
	assert.Empty(t, introspectRaw(t, c, 4))
}

// TestDescribeMethod checks that Server.Describe is the document
// swill.describe answers with, made again only after a Mount or Register,
// and available without the introspection built-ins.
func TestDescribeMethod(t *testing.T) {
	srv := swill.NewServer(swill.WithoutIntrospection(), swill.WithVersion("2"))
	first := srv.Describe()
	assert.Same(t, first, srv.Describe(), "the document is kept while nothing changes")
	assert.Equal(t, "2", first.Version)
	require.NoError(t, srv.Mount(&describingExtension{testExtension{name: "swill.feed", channels: []introspect.ChannelSpec{{Pattern: "feed"}}}}))
	second := srv.Describe()
	assert.NotSame(t, first, second)
	require.Len(t, second.Channels, 1)
	require.NoError(t, srv.Register(swill.Unary("ping", func(ctx context.Context, _ codec.None) (string, error) { return "pong", nil })))
	third := srv.Describe()
	require.Len(t, third.Handlers, 1)
	assert.Equal(t, "ping", third.Handlers[0].Name)
	assert.Len(t, third.Channels, 1)
}
