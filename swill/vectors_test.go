package swill_test

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/internal/swilltest"
)

type vectorFile struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Events      []struct {
		Conn      string `json:"conn"`
		Dir       string `json:"dir"`
		Hex       string `json:"hex"`
		Note      string `json:"note"`
		Handshake *struct {
			Path       string   `json:"path"`
			Offered    []string `json:"offered_subprotocols"`
			Status     int      `json:"http_status"`
			Negotiated string   `json:"negotiated_subprotocol"`
		} `json:"handshake"`
	} `json:"events"`
}

// TestVectors replays the frames recorded from the reference server
// against the demo service: every received byte must equal the recording.
func TestVectors(t *testing.T) {
	files, err := filepath.Glob("testdata/vectors/*.json")
	require.NoError(t, err)
	require.Len(t, files, 18)
	srv := swilltest.StartDemo(t)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			var v vectorFile
			require.NoError(t, json.Unmarshal(b, &v))
			conns := map[string]*swilltest.Raw{}
			for i, e := range v.Events {
				switch e.Dir {
				case "handshake":
					h := e.Handshake
					require.Equal(t, 101, h.Status)
					c := swilltest.Dial(t, srv.URL, h.Offered...)
					require.Equal(t, h.Negotiated, c.Conn.Subprotocol())
					conns[e.Conn] = c
				case "send":
					want, err := hex.DecodeString(e.Hex)
					require.NoError(t, err)
					conns[e.Conn].Send(want)
				case "recv":
					want, err := hex.DecodeString(e.Hex)
					require.NoError(t, err)
					got := conns[e.Conn].Recv(5 * time.Second)
					require.Equal(t, hex.EncodeToString(want), hex.EncodeToString(got), "event %d of %s (%s)", i, v.Name, v.Description)
				case "window":
					// The recording waited 200 or 300 ms and saw nothing;
					// a shorter wait proves the same here.
					conns[e.Conn].Quiet(100 * time.Millisecond)
				default:
					t.Fatalf("unknown event %q", e.Dir)
				}
			}
		})
	}
}
