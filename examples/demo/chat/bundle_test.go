package chat_test

import (
	"path/filepath"
	"testing"

	"github.com/swillorg/swill-go/internal/nodetest"
)

// The committed bundle is what build.sh makes of the page's TypeScript
// and the client's sources. Needs SWILL_NODE_TESTS=1 (see package nodetest).
func TestBundleUpToDate(t *testing.T) {
	nodetest.BundleUpToDate(t, filepath.Join("assets", "chat.js"))
}
