package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/rpc"
)

func TestCallUnary(t *testing.T) {
	t.Parallel()
	srv, _ := demo(t)
	r := swillCmd(t, nil, "call", srv.URL, "add", "[1, 2]")
	assert.Equal(t, result{stdout: "3\n"}, r)

	// Flags after the arguments, and "--" before a negative number.
	r = swillCmd(t, nil, "call", srv.URL, "sleep", "-timeout", "5s", "--", "-1")
	assert.Equal(t, result{stdout: "-1\n"}, r)

	// The request from standard input.
	r = swillCmd(t, strings.NewReader(`{"name": "Ada", "email": "ada@example.com", "age": 36}`), "call", "-pretty", srv.URL, "signup", "-")
	assert.Equal(t, result{stdout: "{\n  \"id\": \"u1\",\n  \"name\": \"Ada\"\n}\n"}, r)

	// Without a JSON argument the request is null.
	r = swillCmd(t, nil, "call", srv.URL, "metadata")
	assert.Equal(t, result{stdout: "{}\n"}, r)

	// For a request type that has no null, that is the server's 400, the
	// same as for an explicit null: nothing is made up in its place.
	none := swillCmd(t, nil, "call", srv.URL, "add")
	null := swillCmd(t, nil, "call", srv.URL, "add", "null")
	assert.Equal(t, null, none)
	assert.Equal(t, 400-390, none.code)
	assert.Contains(t, none.stderr, `swill-error: {"code":400,"message":"invalid request for \"add\": the payload is nil`)
	assert.Equal(t, null, swillCmd(t, nil, "call", "-kind", "unary", srv.URL, "add"))
}

func TestCallServerStream(t *testing.T) {
	t.Parallel()
	srv, _ := demo(t)
	r := swillCmd(t, nil, "call", "-v", srv.URL, "countdown", "3")
	assert.Equal(t, result{stdout: "3\n2\n1\n", stderr: "trailing metadata: {\"total\":3}\n"}, r)

	r = swillCmd(t, nil, "call", srv.URL, "lead", "2", "-v")
	assert.Equal(t, result{stdout: "0\n1\n", stderr: "leading metadata: {\"x\":\"y\"}\n"}, r)

	r = swillCmd(t, nil, "call", srv.URL, "countdown", "0")
	assert.Equal(t, result{stdout: ""}, r)
}

func TestCallClientStreamFromStdin(t *testing.T) {
	t.Parallel()
	srv, _ := demo(t)
	r := swillCmd(t, strings.NewReader("1\n2\n\n  \n39\n"), "call", srv.URL, "sum")
	assert.Equal(t, result{stdout: "42\n"}, r)

	// An empty stream.
	r = swillCmd(t, strings.NewReader(""), "call", srv.URL, "sum")
	assert.Equal(t, result{stdout: "0\n"}, r)
}

func TestCallBidiEchoesEachLineAsItArrives(t *testing.T) {
	t.Parallel()
	srv, _ := demo(t)
	in, w := io.Pipe()
	defer w.Close()
	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	wait := background(context.Background(), in, stdout, stderr, "call", srv.URL, "echo")

	// Each item comes back before the next one is written: the command
	// sends as it reads and prints as it receives.
	for _, item := range []string{`"a"`, `{"b": [1, 2.5, null]}`, `18446744073709551615`} {
		_, err := io.WriteString(w, item+"\n")
		require.NoError(t, err)
		var v any
		require.NoError(t, json.Unmarshal([]byte(item), &v))
		compact, _ := json.Marshal(v)
		if item == `18446744073709551615` {
			compact = []byte(item) // exact, not rounded through float64
		}
		stdout.waitFor(t, string(compact)+"\n")
	}
	require.NoError(t, w.Close())
	assert.Equal(t, 0, wait())
	assert.Equal(t, "\"a\"\n{\"b\":[1,2.5,null]}\n18446744073709551615\n", stdout.String())
	assert.Empty(t, stderr.String())
}

func TestCallMetadata(t *testing.T) {
	t.Parallel()
	srv, _ := demo(t)
	r := swillCmd(t, nil, "call", "-v", "-H", "n=1", "-H", "who=me", "-H", `obj={"k": [true, 1.5]}`, "-H", "s=\"quoted\"", srv.URL, "metadata")
	assert.Equal(t, result{
		stdout: `{"n":1,"obj":{"k":[true,1.5]},"s":"quoted","who":"me"}` + "\n",
		stderr: "leading metadata: {\"hello\":\"world\"}\ntrailing metadata: {\"bye\":\"world\"}\n",
	}, r)
}

func TestCallTimeoutTravelsToTheServer(t *testing.T) {
	t.Parallel()
	srv, _ := demo(t)
	r := swillCmd(t, nil, "call", "-timeout", "30s", srv.URL, "metadata")
	require.Equal(t, 0, r.code, r.stderr)
	var md map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &md))
	ms, ok := md[rpc.TimeoutKey].(float64)
	require.True(t, ok, "no %s in %v", rpc.TimeoutKey, md)
	assert.InDelta(t, 30000, ms, 5000)
}

func TestCallTimeoutExpires(t *testing.T) {
	t.Parallel()
	srv, calls := demo(t)
	start := time.Now()
	r := swillCmd(t, nil, "call", "-timeout", "200ms", srv.URL, "sleep", "10000")
	assert.Equal(t, result{stderr: "swill: deadline exceeded: no answer within 200ms\n", code: exitTimeout}, r)
	assert.Less(t, time.Since(start), 5*time.Second)
	out := calls.wait(t, "sleep")
	assert.Error(t, out.Err, "the handler's context ended too")
}

func TestCallErrors(t *testing.T) {
	t.Parallel()
	srv, _ := demo(t)
	// The exit status is the code minus 390, and the last line of stderr
	// is the error as JSON.
	r := swillCmd(t, nil, "call", srv.URL, "fail", `{"code": 418, "message": "I'm a teapot"}`)
	assert.Equal(t, result{stderr: "error: code 418: I'm a teapot\n" +
		`swill-error: {"code":418,"message":"I'm a teapot"}` + "\n", code: 28}, r)

	r = swillCmd(t, nil, "call", srv.URL, "signup", `{"name": "A", "email": "a@example.com", "age": 5}`)
	assert.Equal(t, result{
		stderr: "error: code 422 (validation error): Validation Error\n" +
			`data: {"age":[{"description":"less than 13"}],"name":[{"description":"length less than 2"}]}` + "\n" +
			`swill-error: {"code":422,"data":{"age":[{"description":"less than 13"}],"name":[{"description":"length less than 2"}]},"message":"Validation Error"}` + "\n",
		code: 32,
	}, r)

	r = swillCmd(t, nil, "call", srv.URL, "boom")
	assert.Equal(t, result{stderr: "error: code 500 (internal error): An internal server error occurred\n" +
		`swill-error: {"code":500,"message":"An internal server error occurred"}` + "\n", code: 110}, r)

	// A call the server does not know, made anyway by giving its kind.
	r = swillCmd(t, nil, "call", "-kind", "unary", srv.URL, "nope")
	assert.Equal(t, 14, r.code)
	assert.Contains(t, r.stderr, "error: code 404 (not found): ")
	assert.Contains(t, r.stderr, "\nswill-error: {\"code\":404,")

	// Codes outside 400..519 give status 1; the line still has the code.
	for code, status := range map[int]int{399: 1, 400: 10, 519: 129, 520: 1, 1000: 1} {
		r = swillCmd(t, nil, "call", srv.URL, "fail", fmt.Sprintf(`{"code": %d, "message": "m"}`, code))
		assert.Equal(t, status, r.code, "code %d", code)
		assert.True(t, strings.HasSuffix(r.stderr, fmt.Sprintf("swill-error: {\"code\":%d,\"message\":\"m\"}\n", code)), r.stderr)
	}
}

func TestCallUsageErrors(t *testing.T) {
	t.Parallel()
	srv, _ := demo(t)
	cases := []struct {
		name   string
		stdin  string
		args   []string
		stderr string
	}{
		{"bad JSON", "", []string{"call", srv.URL, "add", "[1,"}, "swill: invalid JSON: unexpected EOF\n"},
		{"two values", "", []string{"call", srv.URL, "add", "1 2"}, "swill: invalid JSON: more than one value\n"},
		{"unknown call", "", []string{"call", srv.URL, "nope"}, "swill: the service has no call \"nope\" (swill list shows them)\n"},
		{"bad line", "1\n{\n", []string{"call", srv.URL, "sum"}, "swill: input line 2: invalid JSON: unexpected EOF\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := swillCmd(t, strings.NewReader(c.stdin), c.args...)
			assert.Equal(t, result{stderr: c.stderr, code: exitUsage}, r)
		})
	}

	r := swillCmd(t, nil, "call", srv.URL, "sum", "[1]")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "a client_stream call reads its items from standard input")

	r = swillCmd(t, nil, "call", srv.URL)
	assert.Equal(t, result{stderr: "swill call: want URL, CALL and at most one JSON argument, got 1 arguments (see \"swill call -h\")\n", code: exitUsage}, r)

	r = swillCmd(t, nil, "call", "-kind", "sideways", srv.URL, "add")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `unknown kind "sideways"`)

	r = swillCmd(t, nil, "call", "-H", "novalue", srv.URL, "add")
	assert.Equal(t, exitUsage, r.code)
	assert.Equal(t, "swill call: invalid value \"novalue\" for flag -H: want key=value or \"key: value\" (see \"swill call -h\")\n", r.stderr)
}

func TestCallCancelMidStream(t *testing.T) {
	t.Parallel()
	srv, calls := demo(t)
	in, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	wait := background(ctx, in, stdout, stderr, "call", srv.URL, "echo")
	_, err := io.WriteString(w, "1\n")
	require.NoError(t, err)
	stdout.waitFor(t, "1\n")

	cancel() // Ctrl-C
	assert.Equal(t, exitInterrupted, wait())
	assert.Equal(t, "1\n", stdout.String())
	assert.Equal(t, "swill: interrupted: the call was cancelled\n", stderr.String())
	out := calls.wait(t, "echo")
	assert.True(t, out.Canceled, "the server was sent CANCEL")
}

func TestCallCancelUnary(t *testing.T) {
	t.Parallel()
	srv, calls := demo(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	wait := background(ctx, nil, stdout, stderr, "call", "-kind", "unary", srv.URL, "sleep", "60000")
	calls.waitStart(t, "sleep")
	cancel()
	assert.Equal(t, exitInterrupted, wait())
	assert.Empty(t, stdout.String())
	out := calls.wait(t, "sleep")
	assert.True(t, out.Canceled, "the server was sent CANCEL")
}

func TestCallConnectionRefused(t *testing.T) {
	t.Parallel()
	srv, _ := demo(t)
	url := srv.URL
	srv.HTTP.Close() // nothing listens there any more
	r := swillCmd(t, nil, "call", "-kind", "unary", url, "add", "[1, 2]")
	assert.Equal(t, exitConnection, r.code)
	assert.Contains(t, r.stderr, "swill: connecting to "+url+": ")
}

// TestCallGrpcurlHabits: what grpcurl users type works too.
func TestCallGrpcurlHabits(t *testing.T) {
	t.Parallel()
	srv, _ := demo(t)
	dir := t.TempDir()
	reqFile := filepath.Join(dir, "req.json")
	require.NoError(t, os.WriteFile(reqFile, []byte("[20, 22]\n"), 0o644))
	itemsFile := filepath.Join(dir, "items.jsonl")
	require.NoError(t, os.WriteFile(itemsFile, []byte("1\n2\n39\n"), 0o644))

	cases := []struct {
		name  string
		stdin string
		args  []string
		want  result
	}{
		{"-d", "", []string{"call", "-d", "[1, 2]", srv.URL, "add"}, result{stdout: "3\n"}},
		{"-d after the arguments", "", []string{"call", srv.URL, "add", "-d", "[1, 2]"}, result{stdout: "3\n"}},
		{"-d @file", "", []string{"call", "-d", "@" + reqFile, srv.URL, "add"}, result{stdout: "42\n"}},
		{"-d @-", "[2, 3]", []string{"call", "-d", "@-", srv.URL, "add"}, result{stdout: "5\n"}},
		{"-d items of a client stream", "", []string{"call", "-d", "1\n2\n3", srv.URL, "sum"}, result{stdout: "6\n"}},
		{"-d @file items of a client stream", "", []string{"call", "-d", "@" + itemsFile, srv.URL, "sum"}, result{stdout: "42\n"}},
		{"-d for a server stream", "", []string{"call", "-d", "2", srv.URL, "countdown"}, result{stdout: "2\n1\n"}},
		{"-H name: value", "", []string{"call", "-H", "who: me", "-H", "n:1", srv.URL, "metadata"}, result{stdout: `{"n":1,"who":"me"}` + "\n"}},
		{"-H key=value", "", []string{"call", "-H", "url=http://x", srv.URL, "metadata"}, result{stdout: `{"url":"http://x"}` + "\n"}},
		{"negative number", "", []string{"call", srv.URL, "sleep", "-1"}, result{stdout: "-1\n"}},
		{"negative number after a bool flag", "", []string{"call", "-v", srv.URL, "sleep", "-v", "-2e0"}, result{stdout: "-2\n"}},
		{"negative number before a flag", "", []string{"call", srv.URL, "sleep", "-1", "-timeout", "5s"}, result{stdout: "-1\n"}},
		{"negative -d", "", []string{"call", "-d", "-3", srv.URL, "sleep"}, result{stdout: "-3\n"}},
		{"-- still works", "", []string{"call", srv.URL, "sleep", "--", "-1"}, result{stdout: "-1\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, swillCmd(t, strings.NewReader(c.stdin), c.args...))
		})
	}

	r := swillCmd(t, nil, "call", "-d", "[1, 2]", srv.URL, "add", "[3, 4]")
	assert.Equal(t, result{stderr: "swill call: give the request either with -d or as an argument, not both (see \"swill call -h\")\n", code: exitUsage}, r)
	r = swillCmd(t, nil, "call", "-d", "@"+filepath.Join(dir, "missing.json"), srv.URL, "add")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "missing.json")
	// A flag that takes a value takes a negative number as its value.
	r = swillCmd(t, nil, "call", "-timeout", "-1s", srv.URL, "add")
	assert.Equal(t, result{stderr: "swill call: -timeout must not be negative (see \"swill call -h\")\n", code: exitUsage}, r)
}
