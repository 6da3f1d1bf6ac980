package swill

import (
	"context"
	"strings"
	"sync"

	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/introspect"
)

// The names of the built-in calls.
const (
	// IntrospectRPC is the built-in server stream that lists the
	// registered handlers in the reference Swill format, one
	// [introspect.Entry] per handler in registration order.
	IntrospectRPC = "swill.introspect"
	// DescribeRPC is the built-in unary call that returns the
	// [introspect.Document] of the whole service: every handler with its
	// kind, doc, declared errors and JSON Schemas, the service version,
	// and the publish/subscribe channels of the mounted extensions (see
	// [ChannelDescriber]).
	DescribeRPC = "swill.describe"
)

// builtinHandlers returns swill.introspect and swill.describe. Both accept
// any request value (clients send nil) and describe the handlers of
// [Server.Handlers], never the built-in ones; swill.describe also lists
// the channels of the mounted extensions (see [ChannelDescriber]).
func builtinHandlers(s *Server) []*Handler {
	describe := func(ctx context.Context, _ codec.None) (*introspect.Document, error) {
		return s.Describe(), nil
	}
	list := func(ctx context.Context, _ codec.None, out chan<- introspect.Entry) error {
		for _, spec := range specs(s.Handlers()) {
			select {
			case out <- introspect.NewEntry(spec):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	return []*Handler{
		ServerStream(IntrospectRPC, list, WithDoc("Lists the handlers of the service in the reference Swill format.")),
		Unary(DescribeRPC, describe, WithDoc("Describes the service: handlers, kinds, docs, errors and JSON Schemas.")),
	}
}

// describeCache is the document [Server.Describe] built last.
type describeCache struct {
	mu  sync.Mutex
	doc *introspect.Document
	gen int // the registry generation doc is of
}

// Describe returns the document swill.describe answers with: the
// registered handlers (never the built-in ones) with their kinds, docs,
// declared errors and JSON Schemas, the service version, and the channels
// of the mounted extensions that describe some ([ChannelDescriber]). It
// is made again only after a Register or Mount; callers must not modify
// it. Describe works on a server made [WithoutIntrospection] too, for
// pages and tools that serve the description themselves.
func (s *Server) Describe() *introspect.Document {
	c := &s.described
	c.mu.Lock()
	defer c.mu.Unlock()
	// Handlers and extensions are only ever added, and each addition
	// counts, so the generation tells whether the document is current.
	if hs, channels, g := s.registry(); c.doc == nil || g != c.gen {
		c.doc, c.gen = introspect.NewDocument(s.Version(), specs(hs), channels...), g
	}
	return c.doc
}

// specs describes handlers to package introspect, leaving out the
// built-in ones.
func specs(hs []*Handler) []introspect.Spec {
	out := make([]introspect.Spec, 0, len(hs))
	for _, h := range hs {
		if strings.HasPrefix(h.name, "swill.") {
			continue
		}
		out = append(out, introspect.Spec{
			Name:     h.name,
			Kind:     h.kind,
			Doc:      h.doc,
			Request:  h.reqType,
			Response: h.resType,
			Errors:   h.ErrorCodes(),
		})
	}
	return out
}
