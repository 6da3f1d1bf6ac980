package session_test

import (
	"testing"

	"github.com/swillorg/swill-go/internal/sessiontest"
	"github.com/swillorg/swill-go/session"
)

func TestMemoryStoreContract(t *testing.T) {
	sessiontest.Run(t, session.NewMemoryStore())
}
