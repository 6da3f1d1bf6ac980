package swill_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests: every
// connection, call and writer the servers start must have ended.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
