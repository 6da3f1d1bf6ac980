package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/swill"
)

// childServerEnv makes the test binary serve the demo service (plus
// "drip") on a loopback port, print its URL and run until killed.
const childServerEnv = "SWILL_TEST_CHILD_SERVER"

// serveChild is the test binary's main when childServerEnv is set.
func serveChild() {
	srv := swill.NewServer()
	err := demosvc.Register(srv)
	if err == nil {
		// drip sends 0..n-1, one every 10ms: slow enough to be killed
		// in the middle.
		err = srv.Register(swill.ServerStream("drip", func(ctx context.Context, n int, out chan<- int) error {
			for i := 0; i < n; i++ {
				select {
				case out <- i:
				case <-ctx.Done():
					return ctx.Err()
				}
				time.Sleep(10 * time.Millisecond) // real time: a slow stream, still running when the test kills the server
			}
			return nil
		}))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("ws://%s/ws\n", ln.Addr())
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	_ = http.Serve(ln, mux)
	os.Exit(1)
}

// startChild starts a server process and returns its URL and a function
// that kills it (SIGKILL: no close frame, no shutdown).
func startChild(t *testing.T) (url string, kill func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childServerEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	killed := false
	kill = func() {
		if !killed {
			killed = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(kill)
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "the server process printed no URL")
	go io.Copy(io.Discard, out)
	return strings.TrimSpace(line), kill
}

// TestCallServerKilledMidStream: a stream cut off by a dead server is a
// failure (status 3 and a line on stderr), never a clean end.
func TestCallServerKilledMidStream(t *testing.T) {
	url, kill := startChild(t)
	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait := background(ctx, nil, stdout, stderr, "call", url, "drip", "100")
	stdout.waitFor(t, "5\n") // six items printed
	kill()
	code := wait()
	assert.Equal(t, exitConnection, code, "stdout %q, stderr %q", stdout.String(), stderr.String())
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	assert.Less(t, len(lines), 100, "the stream cannot have completed")
	assert.GreaterOrEqual(t, len(lines), 6)
	assert.Regexp(t, `^swill: the connection was lost after \d+ items, before the end of the stream: `, stderr.String())
	assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), "one line: %q", stderr.String())
}

func TestCallServerKilledMidBidiStream(t *testing.T) {
	url, kill := startChild(t)
	in, w := io.Pipe()
	defer w.Close()
	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait := background(ctx, in, stdout, stderr, "call", url, "echo")
	_, err := io.WriteString(w, "\"a\"\n")
	require.NoError(t, err)
	stdout.waitFor(t, "\"a\"\n")
	kill()
	assert.Equal(t, exitConnection, wait(), "stdout %q, stderr %q", stdout.String(), stderr.String())
	assert.Contains(t, stderr.String(), "swill: the connection was lost after 1 item, before the end of the stream: ")
}

func TestCallServerKilledMidClientStream(t *testing.T) {
	url, kill := startChild(t)
	in, w := io.Pipe()
	defer w.Close()
	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait := background(ctx, in, stdout, stderr, "call", url, "sum")
	_, err := io.WriteString(w, "1\n2\n")
	require.NoError(t, err)
	// The server is up and serving: another command's call is answered.
	r := swillCmd(t, nil, "call", url, "add", "[1, 2]")
	require.Equal(t, 0, r.code, r.stderr)
	kill()
	require.NoError(t, w.Close()) // the end of input: the command now waits for the result
	assert.Equal(t, exitConnection, wait(), "stdout %q, stderr %q", stdout.String(), stderr.String())
	assert.Empty(t, stdout.String())
	assert.Contains(t, stderr.String(), "swill: the connection was lost before the call ended: ")
}
