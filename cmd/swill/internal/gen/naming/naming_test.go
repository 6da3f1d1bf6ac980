package naming_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/swillorg/swill-go/cmd/swill/internal/gen/naming"
)

func TestGoExported(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"add":            "Add",
		"echo_untyped":   "EchoUntyped",
		"swill.describe": "SwillDescribe",
		"user_id":        "UserID",
		"getHTTPServer":  "GetHTTPServer",
		"pkg.Page_Item":  "PkgPageItem",
		"2fa":            "X2fa",
		"--":             "X",
		"url":            "URL",
	} {
		assert.Equal(t, want, naming.GoExported(in), in)
	}
}

func TestTSIdentifier(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "echoUntyped", naming.TSIdentifier("echo_untyped", true))
	assert.Equal(t, "EchoUntyped", naming.TSIdentifier("echo_untyped", false))
	assert.Equal(t, "_delete", naming.TSIdentifier("delete", true))
	assert.Equal(t, "_2fa", naming.TSIdentifier("2fa", true))
	assert.Equal(t, "PkgName", naming.TSIdentifier("pkg.Name", false))
}

func TestSet(t *testing.T) {
	t.Parallel()
	s := naming.Set{}
	assert.Equal(t, "A", s.Unique("A"))
	assert.Equal(t, "A2", s.Unique("A"))
	assert.Equal(t, "A3", s.Unique("A"))
	assert.Equal(t, "B", s.Unique("B"))
}

func TestGlobStem(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"chat.*":        "chat.",
		"user.[0-9]*":   "user.",
		"a?b":           "ab",
		`news\*`:        "news*",
		"[^x\\]]room":   "room",
		"plain":         "plain",
		"*":             "",
		"unterminated[": "unterminated",
	} {
		assert.Equal(t, want, naming.GlobStem(in), in)
	}
}
