package svcdesc_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/swillorg/swill-go/cmd/swill/internal/svcdesc"
	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/pubsub"
)

// TestMatchGlobAgreesWithTheServer checks MatchGlob against the server's
// own matcher, pubsub.Match, on every pair of these patterns and names.
func TestMatchGlobAgreesWithTheServer(t *testing.T) {
	patterns := []string{"", "*", "**", "chat.*", "chat.?", "a*b*c", "*.lobby", "[abc]x", "[^abc]x", "[a-c]*",
		"[c-a]", `\*`, `a\?b`, `[\]]`, "[abc", "x[", `a\`, "user.[0-9]*", "?", "??", "a?*"}
	names := []string{"", "a", "x", "ax", "dx", "bx", "*", "a?b", "axb", "chat.", "chat.lobby", "chat.x", "aXbYc", "abc",
		"ac", "]", "user.42", "user.x", `a\`, "x[", "b", "ab", "lobby.lobby"}
	for _, p := range patterns {
		for _, n := range names {
			assert.Equal(t, pubsub.Match(p, n), svcdesc.MatchGlob(p, n), "pattern %q, name %q", p, n)
		}
	}
}

func TestChannelOf(t *testing.T) {
	doc := &introspect.Document{Channels: []introspect.Channel{
		{Pattern: "chat.admin"},
		{Pattern: "chat.*", Glob: true},
		{Pattern: "news?"},
	}}
	assert.Equal(t, "chat.admin", svcdesc.ChannelOf(doc, "chat.admin").Pattern, "the first declaration that covers it")
	assert.Equal(t, "chat.*", svcdesc.ChannelOf(doc, "chat.lobby").Pattern)
	assert.Equal(t, "news?", svcdesc.ChannelOf(doc, "news?").Pattern, "a plain name is taken as it is")
	assert.Nil(t, svcdesc.ChannelOf(doc, "news1"))
}
