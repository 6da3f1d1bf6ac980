package svcdesc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/rpc"
)

// The built-in calls a description is read from.
const (
	DescribeRPC   = "swill.describe"
	IntrospectRPC = "swill.introspect"
)

// Description is a service's description and how it was obtained.
type Description struct {
	// Doc is the description.
	Doc *introspect.Document
	// Introspected is set when the server has no swill.describe and Doc
	// was built from swill.introspect: it has no doc strings and no
	// declared errors, and its types are what the reference's format
	// can say.
	Introspected bool
	// Incomplete is the error that ended swill.introspect before it had
	// listed every handler (the reference server stops at the first
	// handler typed Any); Doc then holds the handlers listed before it.
	Incomplete error
}

// Note returns a sentence telling how the description falls short of a
// swill.describe document, or "" when it does not.
func (d *Description) Note() string {
	switch {
	case !d.Introspected:
		return ""
	case d.Incomplete != nil:
		return fmt.Sprintf("the server has no %s; %s ended early (%v), so the list may be incomplete and has no docs", DescribeRPC, IntrospectRPC, d.Incomplete)
	default:
		return fmt.Sprintf("the server has no %s; the description comes from %s (no docs, no declared errors)", DescribeRPC, IntrospectRPC)
	}
}

// Fetch asks the server behind c to describe itself: swill.describe, or
// swill.introspect when the server answers that it has no such call.
func Fetch(ctx context.Context, c *clientgo.Client) (*Description, error) {
	doc, err := clientgo.Call[any, *introspect.Document](ctx, c, DescribeRPC, nil)
	if err == nil {
		if err := check(doc); err != nil {
			return nil, err
		}
		return &Description{Doc: doc}, nil
	}
	if !isNotFound(err) {
		return nil, fmt.Errorf("%s: %w", DescribeRPC, err)
	}
	stream, err := clientgo.CallServerStream[any, introspect.Entry](ctx, c, IntrospectRPC, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", IntrospectRPC, err)
	}
	defer stream.Close()
	var entries []introspect.Entry
	for e, err := range stream.All() {
		if err != nil {
			if !rpc.IsWireError(err) {
				return nil, fmt.Errorf("%s: %w", IntrospectRPC, err)
			}
			if isNotFound(err) && len(entries) == 0 {
				return nil, fmt.Errorf("the server describes itself with neither %s nor %s: %w", DescribeRPC, IntrospectRPC, err)
			}
			return &Description{Doc: FromEntries(entries), Introspected: true, Incomplete: err}, nil
		}
		entries = append(entries, e)
	}
	return &Description{Doc: FromEntries(entries), Introspected: true}, nil
}

func isNotFound(err error) bool {
	var e *rpc.Error
	return errors.As(err, &e) && rpc.IsWireError(err) && e.Code == rpc.CodeNotFound
}

// Load reads a document saved as JSON (the output of "swill describe").
func Load(r io.Reader) (*introspect.Document, error) {
	var doc introspect.Document
	dec := json.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading the description: %w", err)
	}
	if err := check(&doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// check refuses what is not a description this package can read.
func check(doc *introspect.Document) error {
	switch {
	case doc == nil || doc.Format != introspect.FormatName:
		return fmt.Errorf("not a %s document", introspect.FormatName)
	case doc.FormatVersion > introspect.FormatVersion:
		return fmt.Errorf("%s format version %d is newer than this tool's (%d)", introspect.FormatName, doc.FormatVersion, introspect.FormatVersion)
	}
	for i, m := range doc.Handlers {
		if _, ok := m.CallKind(); !ok {
			return fmt.Errorf("handler %d (%q): unknown kind %q", i, m.Name, m.Kind)
		}
	}
	return nil
}
