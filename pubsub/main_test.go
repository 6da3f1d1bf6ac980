package pubsub_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests: every
// subscription, presence refresher and connection must have ended.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
