package pubsub

import "github.com/swillorg/swill-go/introspect"

// DescribeChannels returns the hub's channel declarations, in order, for
// the document swill.describe returns ([swill.ChannelDescriber]): each
// one's pattern, message type, history, presence and doc, and whether
// clients may publish (the hub has an OnPublish hook).
func (h *Hub) DescribeChannels() []introspect.ChannelSpec {
	out := make([]introspect.ChannelSpec, 0, len(h.specs))
	for _, s := range h.specs {
		out = append(out, introspect.ChannelSpec{
			Pattern:     s.pattern,
			Glob:        isPattern(s.pattern),
			Message:     s.typ,
			Doc:         s.doc,
			HistorySize: s.historySize,
			HistoryTTL:  s.historyTTL,
			Presence:    s.presence,
			JoinLeave:   s.joinLeave,
			Publish:     h.hooks.OnPublish != nil,
		})
	}
	return out
}
