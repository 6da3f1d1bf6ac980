package swill

import (
	"context"
	"net/http"

	"github.com/swillorg/swill-go/rpc"
)

// Hooks are functions run at each stage of a connection's and a call's
// life, Swill's lifecycle handlers with Go types. Give them with
// [WithHooks]; a nil field is skipped. Several hooks of one stage run in
// the order they were given, and the first error stops the stage.
//
// An error from a call stage ends the call with that error (an
// [*rpc.Error] chooses the code; any other error is a 500), and the
// handler's context is cancelled. Hooks run in the call's goroutine except
// where noted, so they may block, but a slow hook delays its call.
//
// For a unary call the stages run in this order: BeforeRequest,
// BeforeRequestMetadata, BeforeRequestData, BeforeRequestMessage, the
// handler, BeforeLeadingMetadata, BeforeResponseMessage,
// BeforeTrailingMetadata, AfterRequest. Streams repeat the message stages
// per item. BeforeLeadingMetadata and BeforeTrailingMetadata run only
// when there is metadata to send.
type Hooks struct {
	// BeforeConnection sees the HTTP upgrade request before it is
	// accepted. An error refuses it: an [*rpc.Error] whose code is an
	// HTTP status (401, 403, 429...) sets the response status and its
	// message the body; any other error gives 403.
	BeforeConnection func(r *http.Request) error
	// AfterAccept runs once the WebSocket is established, before any
	// frame is read; it may store values with [Conn.Set]. An error closes
	// the connection with 1008 (policy violation).
	AfterAccept func(ctx context.Context, conn *Conn) error
	// BeforeRequest runs when a call starts, before anything else.
	BeforeRequest func(ctx context.Context, call *Call) error
	// BeforeRequestMetadata sees the request metadata (never nil) and
	// may change it in place.
	BeforeRequestMetadata func(ctx context.Context, call *Call, md rpc.Metadata) error
	// BeforeRequestData sees the raw MsgPack payload of each request
	// message, before BeforeRequestMessage. Registering it makes the
	// server keep a copy of every payload.
	BeforeRequestData func(ctx context.Context, call *Call, data []byte) error
	// BeforeRequestMessage sees each decoded request message (a *Req),
	// before validation and the handler.
	BeforeRequestMessage func(ctx context.Context, call *Call, msg any) error
	// BeforeLeadingMetadata sees the leading metadata before it is sent
	// and may change it in place.
	BeforeLeadingMetadata func(ctx context.Context, call *Call, md rpc.Metadata) error
	// BeforeResponseMessage sees each response message (the unary or
	// client-stream result, each server-stream item) before it is sent.
	BeforeResponseMessage func(ctx context.Context, call *Call, msg any) error
	// BeforeTrailingMetadata sees the trailing metadata before it is sent
	// and may change it in place.
	BeforeTrailingMetadata func(ctx context.Context, call *Call, md rpc.Metadata) error
	// AfterRequest runs when the call has ended, with its outcome.
	AfterRequest func(ctx context.Context, call *Call, out Outcome)
	// AfterConnection runs when the connection has closed and every one
	// of its calls has returned; err says why it closed.
	AfterConnection func(ctx context.Context, conn *Conn, err error)
}

// Outcome is how a call ended, as AfterRequest sees it.
type Outcome struct {
	// Result is the unary or client-stream result; nil for server and
	// bidirectional streams and on error.
	Result any
	// Err is the error the call ended with, nil on success. After a
	// CANCEL from the client it is what the handler returned.
	Err error
	// Canceled is set when the client cancelled the call.
	Canceled bool
}

type hookSet struct {
	beforeConn   []func(*http.Request) error
	afterAcc     []func(context.Context, *Conn) error
	beforeReq    []func(context.Context, *Call) error
	beforeReqMD  []func(context.Context, *Call, rpc.Metadata) error
	beforeData   []func(context.Context, *Call, []byte) error
	beforeMsg    []func(context.Context, *Call, any) error
	beforeLead   []func(context.Context, *Call, rpc.Metadata) error
	beforeResMsg []func(context.Context, *Call, any) error
	beforeTrail  []func(context.Context, *Call, rpc.Metadata) error
	afterReq     []func(context.Context, *Call, Outcome)
	afterConn    []func(context.Context, *Conn, error)
}

func (hs *hookSet) add(h Hooks) {
	if h.BeforeConnection != nil {
		hs.beforeConn = append(hs.beforeConn, h.BeforeConnection)
	}
	if h.AfterAccept != nil {
		hs.afterAcc = append(hs.afterAcc, h.AfterAccept)
	}
	if h.BeforeRequest != nil {
		hs.beforeReq = append(hs.beforeReq, h.BeforeRequest)
	}
	if h.BeforeRequestMetadata != nil {
		hs.beforeReqMD = append(hs.beforeReqMD, h.BeforeRequestMetadata)
	}
	if h.BeforeRequestData != nil {
		hs.beforeData = append(hs.beforeData, h.BeforeRequestData)
	}
	if h.BeforeRequestMessage != nil {
		hs.beforeMsg = append(hs.beforeMsg, h.BeforeRequestMessage)
	}
	if h.BeforeLeadingMetadata != nil {
		hs.beforeLead = append(hs.beforeLead, h.BeforeLeadingMetadata)
	}
	if h.BeforeResponseMessage != nil {
		hs.beforeResMsg = append(hs.beforeResMsg, h.BeforeResponseMessage)
	}
	if h.BeforeTrailingMetadata != nil {
		hs.beforeTrail = append(hs.beforeTrail, h.BeforeTrailingMetadata)
	}
	if h.AfterRequest != nil {
		hs.afterReq = append(hs.afterReq, h.AfterRequest)
	}
	if h.AfterConnection != nil {
		hs.afterConn = append(hs.afterConn, h.AfterConnection)
	}
}

func (hs *hookSet) hasRequestData() bool { return len(hs.beforeData) > 0 }

func (hs *hookSet) hasRequestMetadata() bool { return len(hs.beforeReqMD) > 0 }

func (hs *hookSet) hasAfterAccept() bool { return len(hs.afterAcc) > 0 }

func (hs *hookSet) hasAfterConnection() bool { return len(hs.afterConn) > 0 }

func (hs *hookSet) beforeConnection(r *http.Request) error {
	for _, f := range hs.beforeConn {
		if err := f(r); err != nil {
			return err
		}
	}
	return nil
}

func (hs *hookSet) afterAccept(ctx context.Context, c *Conn) error {
	for _, f := range hs.afterAcc {
		if err := f(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

func (hs *hookSet) beforeRequest(ctx context.Context, c *Call) error {
	for _, f := range hs.beforeReq {
		if err := f(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

func runMD(fs []func(context.Context, *Call, rpc.Metadata) error, ctx context.Context, c *Call, md rpc.Metadata) error {
	for _, f := range fs {
		if err := f(ctx, c, md); err != nil {
			return err
		}
	}
	return nil
}

func runMsg(fs []func(context.Context, *Call, any) error, ctx context.Context, c *Call, v any) error {
	for _, f := range fs {
		if err := f(ctx, c, v); err != nil {
			return err
		}
	}
	return nil
}

func (hs *hookSet) beforeRequestMetadata(ctx context.Context, c *Call, md rpc.Metadata) error {
	return runMD(hs.beforeReqMD, ctx, c, md)
}

func (hs *hookSet) beforeRequestData(ctx context.Context, c *Call, data []byte) error {
	for _, f := range hs.beforeData {
		if err := f(ctx, c, data); err != nil {
			return err
		}
	}
	return nil
}

func (hs *hookSet) beforeRequestMessage(ctx context.Context, c *Call, v any) error {
	return runMsg(hs.beforeMsg, ctx, c, v)
}

func (hs *hookSet) beforeLeadingMetadata(ctx context.Context, c *Call, md rpc.Metadata) error {
	return runMD(hs.beforeLead, ctx, c, md)
}

func (hs *hookSet) beforeResponseMessage(ctx context.Context, c *Call, v any) error {
	return runMsg(hs.beforeResMsg, ctx, c, v)
}

func (hs *hookSet) beforeTrailingMetadata(ctx context.Context, c *Call, md rpc.Metadata) error {
	return runMD(hs.beforeTrail, ctx, c, md)
}

func (hs *hookSet) afterRequest(ctx context.Context, c *Call, out Outcome) {
	for _, f := range hs.afterReq {
		f(ctx, c, out)
	}
}

func (hs *hookSet) afterConnection(ctx context.Context, c *Conn, err error) {
	for _, f := range hs.afterConn {
		f(ctx, c, err)
	}
}
