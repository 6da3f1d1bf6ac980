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
	var (
		mu     sync.Mutex
		cached *introspect.Document
		gen    = -1
	)
	describe := func(ctx context.Context, _ codec.None) (*introspect.Document, error) {
		mu.Lock()
		defer mu.Unlock()
		// Handlers and extensions are only ever added, and each addition
		// counts, so the count tells whether the document is still current.
		if hs, channels, g := s.registry(); g != gen {
			cached, gen = introspect.NewDocument(s.Version(), specs(hs), channels...), g
		}
		return cached, nil
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
