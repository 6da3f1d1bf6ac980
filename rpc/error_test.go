package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/rpc"
)

func TestCodeOf(t *testing.T) {
	t.Parallel()
	assert.Equal(t, rpc.Code(0), rpc.CodeOf(nil))
	assert.Equal(t, rpc.CodeInternal, rpc.CodeOf(io.EOF))
	assert.Equal(t, rpc.CodeNotFound, rpc.CodeOf(rpc.NewError(rpc.CodeNotFound, "x")))
	wrapped := fmt.Errorf("loading: %w", rpc.NewError(418, "teapot"))
	assert.Equal(t, rpc.Code(418), rpc.CodeOf(wrapped))
}

func TestErrorAsAndIs(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("outer: %w", rpc.NewError(rpc.CodeValidation, "Validation Error").WithData(map[string]any{"age": 1}))
	var e *rpc.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, rpc.CodeValidation, e.Code)
	assert.Equal(t, map[string]any{"age": 1}, e.Data)
	assert.ErrorIs(t, err, rpc.NewError(rpc.CodeValidation, ""), "errors.Is matches by code")
	assert.NotErrorIs(t, err, rpc.NewError(rpc.CodeNotFound, ""))
	assert.False(t, rpc.IsWireError(err))
	assert.True(t, rpc.IsWireError(rpc.NewWireError(500, "boom", nil)))
}

func TestErrorfKeepsCause(t *testing.T) {
	t.Parallel()
	err := rpc.Errorf(rpc.CodeTimeout, "query: %w", context.DeadlineExceeded)
	assert.Equal(t, "query: context deadline exceeded", err.Message)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, "swill: 408 query: context deadline exceeded", err.Error())
	assert.Equal(t, "swill: 404 not found", rpc.NewError(rpc.CodeNotFound, "").Error())
}

func TestWithDataCopies(t *testing.T) {
	t.Parallel()
	base := rpc.NewError(rpc.CodeBadRequest, "bad")
	withData := base.WithData("d")
	assert.Nil(t, base.Data, "WithData must not change the receiver")
	assert.Equal(t, "d", withData.Data)
}

func TestCodeString(t *testing.T) {
	t.Parallel()
	for code, want := range map[rpc.Code]string{
		rpc.CodeBadRequest: "bad request", rpc.CodeUnauthorized: "unauthorized", rpc.CodeForbidden: "forbidden",
		rpc.CodeNotFound: "not found", rpc.CodeValidation: "validation error", rpc.CodeInternal: "internal error",
		rpc.CodeInvalidRPC: "invalid rpc", 418: "code 418",
	} {
		assert.Equal(t, want, code.String())
	}
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	var md rpc.Metadata
	assert.Nil(t, md.Clone())
	md = md.Merge(rpc.Metadata{"a": "x"})
	assert.Equal(t, "x", md.String("a"))
	assert.Equal(t, "", md.String("missing"))
	c := md.Clone()
	c["a"] = "y"
	assert.Equal(t, "x", md.String("a"))
	assert.True(t, rpc.KindBidiStream.RequestStreams() && rpc.KindBidiStream.ResponseStreams())
	assert.False(t, rpc.KindUnary.RequestStreams() || rpc.KindUnary.ResponseStreams())
	assert.Equal(t, "client_stream", rpc.KindClientStream.String())
}

// A handler returns an *rpc.Error to choose what the client sees; callers
// on either side inspect it with errors.As.
func ExampleError() {
	err := fmt.Errorf("signup: %w", rpc.NewError(rpc.CodeForbidden, "reserved name").WithData(map[string]any{"name": "root"}))
	var e *rpc.Error
	if errors.As(err, &e) {
		fmt.Println(int(e.Code), e.Code, e.Message, e.Data)
	}
	// Output: 403 forbidden reserved name map[name:root]
}
