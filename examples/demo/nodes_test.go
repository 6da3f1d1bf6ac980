package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/examples/demo/chat"
	"github.com/swillorg/swill-go/internal/redistest"
	"github.com/swillorg/swill-go/rpc"
	"go.uber.org/goleak"
)

// TestMain runs the demo itself when asked to by startDemo: the test
// binary is the demo binary, so the tests run real demo processes.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("SWILL_DEMO_ARGS"); ok {
		os.Args = append([]string{"demo"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// startDemo runs a demo process with args and returns its ws:// URL; the
// process gets SIGTERM when t ends.
func startDemo(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SWILL_DEMO_ARGS="+strings.Join(append([]string{"-addr", "127.0.0.1:0"}, args...), " "))
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	logPath := filepath.Join(t.TempDir(), "stderr")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	cmd.Stderr = logFile
	stderr := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	require.NoError(t, cmd.Start())
	logFile.Close() // the child has its own
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("demo %v: %v; stderr: %s", args, err, stderr())
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("demo %v printed no URL: %v; stderr: %s", args, err, stderr())
	}
	return strings.TrimSpace(line)
}

func dialJar(t *testing.T, url string, jar http.CookieJar) *clientgo.Client {
	t.Helper()
	c, err := clientgo.Dial(context.Background(), url, clientgo.WithoutReconnect(),
		clientgo.WithHTTPClient(&http.Client{Jar: jar}))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

type item struct {
	Channel string          `msgpack:"channel"`
	Join    *rpc.ClientInfo `msgpack:"join"`
	Data    chat.Message    `msgpack:"data"`
	Offset  uint64          `msgpack:"offset"`
}

// crossNodes has ann join a chat room through a and bob send to it
// through b, and checks that the message arrives, that presence through
// b lists ann, and that a session's visits go on from a to b.
func crossNodes(t *testing.T, a, b string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var r [4]byte
	_, _ = rand.Read(r[:])
	room := "test" + hex.EncodeToString(r[:])
	jar, _ := cookiejar.New(nil)

	ca := dialJar(t, a, jar)
	st, err := clientgo.CallServerStream[rpc.SubscribeRequest, item](ctx, ca, rpc.SubscribeRPC,
		rpc.SubscribeRequest{Channel: "room." + room}, clientgo.WithMetadata(rpc.Metadata{chat.UserKey: "ann"}))
	require.NoError(t, err)
	_, err = st.WaitHeader(ctx)
	require.NoError(t, err)
	it, err := st.Recv()
	require.NoError(t, err)
	require.NotNil(t, it.Join, "ann's own join first")

	cb := dialJar(t, b, jar)
	pos, err := clientgo.Call[chat.SendRequest, rpc.Position](ctx, cb, "chat.send",
		chat.SendRequest{Room: room, Text: "hello"}, clientgo.WithMetadata(rpc.Metadata{chat.UserKey: "bob"}))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), pos.Offset)
	it, err = st.Recv()
	require.NoError(t, err)
	assert.Equal(t, "hello", it.Data.Text)
	assert.Equal(t, "bob", it.Data.User)
	assert.Equal(t, uint64(1), it.Offset)

	infos, err := clientgo.Call[rpc.ChannelRequest, []rpc.ClientInfo](ctx, cb, rpc.PresenceRPC,
		rpc.ChannelRequest{Channel: "room." + room}, clientgo.WithMetadata(rpc.Metadata{chat.UserKey: "bob"}))
	require.NoError(t, err)
	require.Len(t, infos, 1)
	assert.Equal(t, "ann", infos[0].User)

	va, err := clientgo.Call[codec.None, Visits](ctx, ca, "demo.visits", codec.None{})
	require.NoError(t, err)
	vb, err := clientgo.Call[codec.None, Visits](ctx, cb, "demo.visits", codec.None{})
	require.NoError(t, err)
	assert.Equal(t, 1, va.Visits)
	assert.Equal(t, 2, vb.Visits, "the session is the same on both")
	assert.Equal(t, strings.TrimSuffix(strings.TrimPrefix(a, "ws://"), "/ws"), va.Node)
}

// TestTwoDemosThroughRedis runs two demo processes on one Redis:
// chat rooms, presence and sessions cross from one to the other.
func TestTwoDemosThroughRedis(t *testing.T) {
	url := redistest.URL(t)
	a, b := startDemo(t, "-redis", url), startDemo(t, "-redis", url)
	require.NotEqual(t, a, b)
	crossNodes(t, a, b)
}

// TestDemoWithoutRedis runs the demo alone, in-process.
func TestDemoWithoutRedis(t *testing.T) {
	a := startDemo(t)
	crossNodes(t, a, a)
}
