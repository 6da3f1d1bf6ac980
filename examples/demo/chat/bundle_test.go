package chat_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/swillorg/swill-go/internal/nodetest"
)

// The committed bundle is what build.sh makes of the page's TypeScript
// and the client's sources: a change to either needs build.sh run and its
// output committed. Needs SWILL_NODE_TESTS=1 (see package nodetest).
func TestBundleUpToDate(t *testing.T) {
	nodetest.Require(t)
	out := filepath.Join(t.TempDir(), "chat.js")
	nodetest.Run(t, 3*time.Minute, ".", "sh", "build.sh", out)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("assets", "chat.js"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("assets/chat.js is out of date: run examples/demo/chat/build.sh and commit the result")
	}
}
