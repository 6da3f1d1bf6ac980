package swill_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// checkGolden compares got with testdata/golden/name, or rewrites the
// file under -update.
func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	path := filepath.Join("testdata", "golden", name)
	if *updateGolden {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), b.String(), "differs from %s; rerun with -update if the change is intended", path)
}

// introspectRaw calls swill.introspect on c and returns the items, after
// checking that every frame is a MESSAGE of the call and that the stream
// ends with a bare END_OF_STREAM.
func introspectRaw(t *testing.T, c *swilltest.Raw, seq int64) []introspect.Entry {
	t.Helper()
	c.Send(requestFrame(t, seq, swill.IntrospectRPC, wire.TypeMessage, nil))
	var entries []introspect.Entry
	for {
		b := c.Recv(5 * time.Second)
		var f wire.Response
		require.NoError(t, wire.ParseResponse(b, &f))
		require.Equal(t, seq, f.Seq)
		if f.Type == wire.TypeEndOfStream {
			assert.Equal(t, resultFrame(t, seq, wire.TypeEndOfStream, nil), hex.EncodeToString(b))
			return entries
		}
		require.Equal(t, wire.TypeMessage, f.Type, "frame % x", b)
		var e introspect.Entry
		require.NoError(t, codec.Unmarshal(f.Data, &e))
		entries = append(entries, e)
	}
}

func describeRaw(t *testing.T, c *swilltest.Raw, seq int64) *introspect.Document {
	t.Helper()
	c.Send(requestFrame(t, seq, swill.DescribeRPC, wire.TypeMessage, nil))
	b := c.Recv(5 * time.Second)
	var f wire.Response
	require.NoError(t, wire.ParseResponse(b, &f))
	require.Equal(t, seq, f.Seq)
	require.Equal(t, wire.TypeMessage, f.Type, "frame % x", b)
	var doc introspect.Document
	require.NoError(t, codec.Unmarshal(f.Data, &doc))
	return &doc
}

// TestIntrospectDemo lists the demo's handlers over a loopback socket:
// all of them, in registration order, any-typed ones included, then a
// clean END_OF_STREAM.
func TestIntrospectDemo(t *testing.T) {
	srv := swilltest.StartDemo(t)
	c := swilltest.Dial(t, srv.URL, rpc.LegacySubprotocol)
	entries := introspectRaw(t, c, 1)

	var want, got []string
	for _, h := range demosvc.Handlers() {
		want = append(want, h.Name())
	}
	for _, e := range entries {
		got = append(got, e.Name)
	}
	require.Equal(t, []string{"add", "countdown", "sum", "fail", "sleep", "boom", "lead", "echo", "metadata", "echo_untyped", "signup"}, want)
	assert.Equal(t, want, got)

	// The examples of the protocol description.
	fail := entries[3]
	assert.Equal(t, introspect.Entry{
		Name: "fail",
		Request: introspect.Message{Type: introspect.Type{Type: "FailRequest", Arguments: introspect.Arguments{
			{Key: "code", Type: introspect.Type{Type: "int"}},
			{Key: "message", Type: introspect.Type{Type: "str"}},
		}}},
		Response: introspect.Message{Type: introspect.Type{Type: "None"}},
	}, fail)
	add := entries[0].Request.Type
	assert.Equal(t, introspect.Type{Type: "tuple", Arguments: introspect.Arguments{
		{Key: 0, Type: introspect.Type{Type: "int"}},
		{Key: 1, Type: introspect.Type{Type: "int"}},
	}}, add)
	assert.Equal(t, "Any", entries[5].Request.Type.Type, "boom takes anything")
	assert.True(t, entries[7].Request.Streams && entries[7].Response.Streams, "echo streams both ways")
	checkGolden(t, "demo.introspect.json", entries)

	// The connection is still fine, and the call can be made again.
	c.Send(requestFrame(t, 2, "add", wire.TypeMessage, []int{1, 2}))
	assert.Equal(t, resultFrame(t, 2, wire.TypeMessage, 3), hex.EncodeToString(c.Recv(5*time.Second)))
	assert.Len(t, introspectRaw(t, c, 3), len(want))
}

// TestDescribeDemo fetches the demo's document over a loopback socket
// and compares it with the golden file.
func TestDescribeDemo(t *testing.T) {
	srv := swilltest.StartDemo(t, swill.WithVersion("1.2.0"))
	c := swilltest.Dial(t, srv.URL)
	doc := describeRaw(t, c, 1)
	assert.Equal(t, introspect.FormatName, doc.Format)
	assert.Equal(t, introspect.FormatVersion, doc.FormatVersion)
	assert.Equal(t, "1.2.0", doc.Version)
	require.Len(t, doc.Handlers, 11)
	signup := doc.Method("signup")
	require.NotNil(t, signup)
	assert.Equal(t, "unary", signup.Kind)
	assert.Equal(t, "Creates a user.", signup.Doc)
	assert.Equal(t, []introspect.ErrorCode{{Code: 422, Name: "validation error"}}, signup.Errors)
	req := doc.Defs.Get("SignupRequest")
	require.NotNil(t, req)
	assert.Equal(t, []string{"name", "email", "age"}, req.Required)
	assert.Equal(t, 2, *req.Properties.Get("name").MinLength)
	assert.Equal(t, 13.0, *req.Properties.Get("age").Minimum)
	checkGolden(t, "demo.describe.json", doc)

	// The document equals what package introspect builds from the
	// registered handlers: the server adds nothing and loses nothing.
	var specs []introspect.Spec
	for _, h := range srv.Handlers() {
		specs = append(specs, introspect.Spec{Name: h.Name(), Kind: h.Kind(), Doc: h.Doc(), Request: h.RequestType(), Response: h.ResponseType(), Errors: h.ErrorCodes()})
	}
	want, err := json.Marshal(introspect.NewDocument("1.2.0", specs))
	require.NoError(t, err)
	got, err := json.Marshal(doc)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got))
}

// TestIntrospectionTracksRegistration registers handlers after the first
// calls: both built-ins see them, and never list themselves.
func TestIntrospectionTracksRegistration(t *testing.T) {
	srv := swilltest.NewServer(swill.WithVersion("0.1.0"))
	ts := swilltest.Start(t, srv)
	c := swilltest.Dial(t, ts.URL)

	assert.Empty(t, introspectRaw(t, c, 1))
	doc := describeRaw(t, c, 2)
	assert.Empty(t, doc.Handlers)
	assert.NotNil(t, doc.Handlers, "an empty list, not nil")
	assert.Equal(t, "0.1.0", doc.Version)

	require.NoError(t, srv.Register(
		swill.Unary("ping", func(ctx context.Context, _ codec.None) (string, error) { return "pong", nil }, swill.WithDoc("Answers pong.")),
		swill.BidiStream("relay", func(ctx context.Context, in <-chan map[string]any, out chan<- any) error { return nil }),
	))
	entries := introspectRaw(t, c, 3)
	require.Len(t, entries, 2)
	assert.Equal(t, "ping", entries[0].Name)
	assert.Equal(t, "relay", entries[1].Name)
	doc = describeRaw(t, c, 4)
	require.Len(t, doc.Handlers, 2)
	assert.Equal(t, "Answers pong.", doc.Handlers[0].Doc)
	assert.Equal(t, "bidi_stream", doc.Handlers[1].Kind)
	assert.Nil(t, doc.Method(swill.IntrospectRPC))
	assert.Nil(t, doc.Method(swill.DescribeRPC))

	// Any request value is accepted, as the reference clients may send one.
	c.Send(requestFrame(t, 5, swill.DescribeRPC, wire.TypeMessage, map[string]any{"ignored": true}))
	var f wire.Response
	require.NoError(t, wire.ParseResponse(c.Recv(5*time.Second), &f))
	assert.Equal(t, wire.TypeMessage, f.Type)
}

// TestIntrospectionDisabled removes both built-in calls.
func TestIntrospectionDisabled(t *testing.T) {
	srv := swilltest.StartDemo(t, swill.WithoutIntrospection())
	c := swilltest.Dial(t, srv.URL)
	for i, name := range []string{swill.IntrospectRPC, swill.DescribeRPC} {
		seq := int64(i + 1)
		c.Send(requestFrame(t, seq, name, wire.TypeMessage, nil))
		b := c.Recv(5 * time.Second)
		var f wire.Response
		require.NoError(t, wire.ParseResponse(b, &f))
		require.Equal(t, wire.TypeError, f.Type)
		e, err := wire.DecodeError(f.Data)
		require.NoError(t, err)
		assert.Equal(t, rpc.CodeNotFound, e.Code)
	}
}

// TestIntrospectCancel cancels the stream; the connection carries on.
func TestIntrospectCancel(t *testing.T) {
	srv := swilltest.StartDemo(t)
	c := swilltest.Dial(t, srv.URL)
	c.Send(requestFrame(t, 1, swill.IntrospectRPC, wire.TypeMessage, nil))
	c.Send(requestFrame(t, 1, swill.IntrospectRPC, wire.TypeCancel, nil))
	// Whatever was sent before the cancel arrived, the stream ends
	// without an ERROR and the connection still serves calls.
	c.Send(requestFrame(t, 2, "add", wire.TypeMessage, []int{2, 2}))
	for {
		b := c.Recv(5 * time.Second)
		var f wire.Response
		require.NoError(t, wire.ParseResponse(b, &f))
		if f.Seq == 2 {
			assert.Equal(t, resultFrame(t, 2, wire.TypeMessage, 4), hex.EncodeToString(b))
			break
		}
		assert.NotEqual(t, wire.TypeError, f.Type)
	}
}
