package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// demoDescription is the description of the demo, saved by
// TestDescribe; the generators' tests read it as a file.
const demoDescription = "testdata/demo.describe.json"

func TestList(t *testing.T) {
	t.Parallel()
	srv, _ := demo(t)
	r := swillCmd(t, nil, "list", srv.URL)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	golden(t, "demo.list.txt", r.stdout)

	// The same from the saved description.
	fromFile := swillCmd(t, nil, "list", demoDescription)
	assert.Equal(t, r, fromFile)
	// And from standard input.
	f, err := os.Open(demoDescription)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, r, swillCmd(t, f, "list", "-"))
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	srv, _ := demo(t)
	r := swillCmd(t, nil, "describe", srv.URL)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	golden(t, filepath.Base(demoDescription), r.stdout)

	r = swillCmd(t, nil, "describe", srv.URL, "signup")
	require.Equal(t, 0, r.code, r.stderr)
	golden(t, "demo.describe.signup.json", r.stdout)

	// Cutting one call out of a saved file gives the same.
	assert.Equal(t, r, swillCmd(t, nil, "describe", demoDescription, "signup"))

	r = swillCmd(t, nil, "describe", srv.URL, "nope")
	assert.Equal(t, result{stderr: "swill: the service has no call \"nope\"\n", code: exitUsage}, r)
}

func TestDescribeBadSource(t *testing.T) {
	t.Parallel()
	r := swillCmd(t, nil, "describe", "testdata/no-such-file.json")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "no-such-file.json")

	r = swillCmd(t, strings.NewReader(`{"format": "something else"}`), "list", "-")
	assert.Equal(t, result{stderr: "swill: -: not a swill.describe document\n", code: exitFailure}, r)

	r = swillCmd(t, strings.NewReader(`{"format": "swill.describe", "format_version": 99}`), "list", "-")
	assert.Equal(t, result{stderr: "swill: -: swill.describe format version 99 is newer than this tool's (1)\n", code: exitFailure}, r)
}

// withoutDescribe makes a swill-go server answer swill.describe as the
// reference server does: it has no such call.
var withoutDescribe = swill.WithInterceptors(swill.InterceptorFunc(func(ctx context.Context, call *swill.Call, next func(context.Context) error) error {
	if call.Name() == "swill.describe" {
		return rpc.NewError(rpc.CodeNotFound, "RPC swill.describe not found")
	}
	return next(ctx)
}))

func TestFallbackToIntrospect(t *testing.T) {
	t.Parallel()
	srv, _ := demo(t, withoutDescribe)
	const note = "swill: note: the server has no swill.describe; the description comes from swill.introspect (no docs, no declared errors)\n"

	r := swillCmd(t, nil, "list", srv.URL)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, note, r.stderr)
	golden(t, "demo.list.introspect.txt", r.stdout)

	r = swillCmd(t, nil, "describe", srv.URL, "fail")
	require.Equal(t, 0, r.code, r.stderr)
	golden(t, "demo.describe.introspect.fail.json", r.stdout)

	// Calls still find their kind.
	r = swillCmd(t, strings.NewReader("1\n2\n"), "call", srv.URL, "sum")
	assert.Equal(t, result{stdout: "3\n", stderr: note}, r)
	r = swillCmd(t, nil, "call", srv.URL, "countdown", "2")
	assert.Equal(t, result{stdout: "2\n1\n", stderr: note}, r)
}

func TestFallbackToIncompleteIntrospect(t *testing.T) {
	t.Parallel()
	// The reference server ends swill.introspect with an error at the
	// first handler typed Any (boom, in the demo).
	srv, _ := demo(t, withoutDescribe, swill.WithHooks(swill.Hooks{
		BeforeResponseMessage: func(ctx context.Context, call *swill.Call, msg any) error {
			if e, ok := msg.(introspect.Entry); ok && e.Name == "boom" {
				return rpc.NewError(rpc.CodeInternal, "An internal server error occurred")
			}
			return nil
		},
	}))
	r := swillCmd(t, nil, "list", srv.URL)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "swill: note: the server has no swill.describe; swill.introspect ended early (swill: 500 An internal server error occurred), so the list may be incomplete and has no docs\n", r.stderr)
	assert.Equal(t, []string{"add", "countdown", "sum", "fail", "sleep"}, firstWords(r.stdout))

	// A call left out can still be made by giving its kind.
	r = swillCmd(t, strings.NewReader("[1]\n"), "call", srv.URL, "echo")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "swill: call \"echo\" is not in the server's (incomplete) description; give its kind with -kind\n")
	r = swillCmd(t, strings.NewReader("[1]\n"), "call", "-kind", "bidi_stream", srv.URL, "echo")
	assert.Equal(t, result{stdout: "[1]\n"}, r)
}

func TestNoIntrospectionAtAll(t *testing.T) {
	t.Parallel()
	srv, _ := demo(t, swill.WithoutIntrospection())
	r := swillCmd(t, nil, "list", srv.URL)
	assert.Equal(t, 404-390, r.code, "the server's 404")
	assert.Contains(t, r.stderr, "swill: describing the service: the server describes itself with neither swill.describe nor swill.introspect")

	// Calls work with their kind given.
	r = swillCmd(t, nil, "call", "-kind", "unary", srv.URL, "add", "[2, 3]")
	assert.Equal(t, result{stdout: "5\n"}, r)
}

func firstWords(s string) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		out = append(out, strings.Fields(line)[0])
	}
	return out
}

func TestUsage(t *testing.T) {
	t.Parallel()
	// Usage errors are one line, with the hint to -h.
	r := swillCmd(t, nil)
	assert.Equal(t, result{stderr: "swill: no command given (see \"swill -h\")\n", code: exitUsage}, r)

	for _, help := range []string{"help", "-h", "--help"} {
		r = swillCmd(t, nil, help)
		assert.Equal(t, result{stdout: usageText}, r)
	}

	r = swillCmd(t, nil, "frobnicate")
	assert.Equal(t, result{stderr: "swill: unknown command \"frobnicate\" (see \"swill -h\")\n", code: exitUsage}, r)

	// -h prints the help on standard output, for every command.
	for _, args := range [][]string{{"list", "-h"}, {"describe", "-h"}, {"call", "-h"}, {"gen", "ts", "-h"}, {"gen", "go", "-help"}, {"gen", "-h"}, {"docs", "-h"}, {"call", "ws://x/ws", "add", "-h"}} {
		r = swillCmd(t, nil, args...)
		assert.Equal(t, 0, r.code, "%v", args)
		assert.Empty(t, r.stderr, "%v", args)
		assert.Contains(t, r.stdout, "Usage: swill ", "%v", args)
	}
	r = swillCmd(t, nil, "list", "-h")
	assert.Contains(t, r.stdout, "Usage: swill list [flags] SOURCE")
	assert.Contains(t, r.stdout, "-http-header")
	assert.Contains(t, r.stdout, "-cacert")

	r = swillCmd(t, nil, "list", "-nope", "x")
	assert.Equal(t, result{stderr: "swill list: flag provided but not defined: -nope (see \"swill list -h\")\n", code: exitUsage}, r)
	r = swillCmd(t, nil, "list")
	assert.Equal(t, result{stderr: "swill list: want one SOURCE, got 0 arguments (see \"swill list -h\")\n", code: exitUsage}, r)

	r = swillCmd(t, nil, "version")
	assert.Equal(t, 0, r.code)
	assert.True(t, strings.HasPrefix(r.stdout, "swill "))
}
