package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/cmd/swill/internal/svcdesc"
	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/rpc"
)

// positionFlag is -since: a stream position written OFFSET:EPOCH.
type positionFlag struct {
	pos *rpc.Position
}

// String implements flag.Value.
func (p *positionFlag) String() string {
	if p == nil || p.pos == nil {
		return ""
	}
	return formatPosition(*p.pos)
}

// Set implements flag.Value.
func (p *positionFlag) Set(s string) error {
	off, epoch, ok := strings.Cut(s, ":")
	n, err := strconv.ParseUint(off, 10, 64)
	if !ok || err != nil {
		return errors.New("want OFFSET:EPOCH, as a subscription's position (12:a1b2c3)")
	}
	p.pos = &rpc.Position{Offset: n, Epoch: epoch}
	return nil
}

func formatPosition(p rpc.Position) string { return strconv.FormatUint(p.Offset, 10) + ":" + p.Epoch }

func cmdSub(ctx context.Context, e *env, args []string) error {
	var (
		cf      connFlags
		md      metadataFlags
		since   positionFlag
		pattern bool
		verbose bool
		pretty  bool
		count   int
	)
	fs := newFlags(e, "sub", "swill sub [flags] URL CHANNEL", `
Subscribes to a channel (or with -pattern to every channel a glob
matches) and prints each publication as one line of JSON as it arrives,
{"channel": ..., "data": ..., "offset": ...}, and joins and leaves as
{"channel": ..., "join": {...}} and {"channel": ..., "leave": {...}},
until Ctrl-C, which ends it with status 0.

-since OFFSET:EPOCH first prints every publication after that position,
from the channel's history; a note on standard error says when they could
not be recovered. When the subscription ends otherwise (the server's
error, a lost connection) the command fails with the status "swill call"
would, and says on standard error how to resume: the -since of the last
publication printed.`)
	cf.register(fs)
	fs.BoolVar(&pattern, "pattern", false, "CHANNEL is a glob pattern (*, ?, [...]) as Redis's PSUBSCRIBE reads it")
	fs.Var(&since, "since", "resume after the position `OFFSET:EPOCH` (from a publication's offset and the channel's epoch)")
	fs.Var(&md, "H", "request metadata `key=value` or \"key: value\" (repeatable), as for swill call")
	fs.BoolVar(&verbose, "v", false, "print the subscription's leading metadata (its position) on standard error")
	fs.BoolVar(&pretty, "pretty", false, "indent the JSON written")
	fs.IntVar(&count, "n", 0, "exit (status 0) after printing `N` items; 0: no limit")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError(fs, "want URL and CHANNEL, got %d arguments", len(pos))
	}
	if count < 0 {
		return usageError(fs, "-n must not be negative")
	}
	if pattern && since.pos != nil {
		return usageError(fs, "-since cannot be used with -pattern: a pattern has no position of its own")
	}
	url, channel := pos[0], pos[1]
	c := &caller{e: e, ctx: ctx, callCtx: ctx, name: rpc.SubscribeRPC, md: md.md, verbose: verbose, pretty: pretty}
	client, err := dial(ctx, url, &cf)
	if err != nil {
		return subOutcome(c, err, nil)
	}
	defer client.Close()
	req := rpc.SubscribeRequest{Channel: channel, Pattern: pattern, Since: since.pos}
	stream, err := clientgo.CallServerStream[rpc.SubscribeRequest, map[string]any](ctx, client, rpc.SubscribeRPC, req, c.options()...)
	if err != nil {
		return subOutcome(c, err, nil)
	}
	defer stream.Close()

	// last is the position to resume from: the header's, then each
	// publication's offset.
	var last *rpc.Position
	if header, err := stream.WaitHeader(ctx); err == nil {
		c.showHeader(header)
		if !pattern {
			last = headerPosition(header)
		}
		if since.pos != nil {
			if ok, _ := header[rpc.RecoveredKey].(bool); !ok {
				fmt.Fprintf(e.stderr, "swill: note: the publications after %s could not be recovered (the channel's history no longer holds them, or its epoch changed); they are lost\n", formatPosition(*since.pos))
			}
		}
	}
	c.streaming = true
	for count == 0 || c.items < count {
		item, err := stream.Recv()
		if err != nil {
			if err == io.EOF {
				fmt.Fprintln(e.stderr, "swill: the server ended the subscription (unsubscribed, or replaced by another subscription to the channel)")
				return nil
			}
			return subOutcome(c, err, last)
		}
		if err := c.print(item); err != nil {
			return err
		}
		c.items++
		if off, ok := itemOffset(item); ok && off > 0 && last != nil {
			last.Offset = off
		}
	}
	return nil
}

// subOutcome is the command's end for the error a subscription ended
// with: Ctrl-C is a success; otherwise the error is reported as "swill
// call" reports it, with the position to resume from when there is one.
func subOutcome(c *caller, err error, last *rpc.Position) error {
	if c.ctx.Err() != nil {
		return nil
	}
	out := c.outcome(err)
	if last != nil && last.Epoch != "" {
		fmt.Fprintf(c.e.stderr, "swill: resume with -since %s\n", formatPosition(*last))
	}
	return out
}

// headerPosition reads the position in a subscription's leading metadata.
func headerPosition(md rpc.Metadata) *rpc.Position {
	p := &rpc.Position{}
	p.Epoch, _ = md[rpc.PositionEpochKey].(string)
	p.Offset, _ = toUint(md[rpc.PositionOffsetKey])
	return p
}

// itemOffset returns the offset of a publication item.
func itemOffset(item map[string]any) (uint64, bool) {
	if _, ok := item["data"]; !ok {
		return 0, false // a join or a leave
	}
	return toUint(item["offset"])
}

func toUint(v any) (uint64, bool) {
	switch n := v.(type) {
	case uint64:
		return n, true
	case int64:
		return uint64(n), n >= 0
	case uint8, uint16, uint32, uint, int8, int16, int32, int:
		u, err := strconv.ParseUint(fmt.Sprint(n), 10, 64)
		return u, err == nil
	}
	return 0, false
}

func cmdPub(ctx context.Context, e *env, args []string) error {
	var (
		cf      connFlags
		md      metadataFlags
		verbose bool
		pretty  bool
	)
	fs := newFlags(e, "pub", "swill pub [flags] URL CHANNEL [JSON|-]", `
Publishes one message on a channel (swill.publish) and prints its
position, {"epoch": ..., "offset": ...} (offset 0 for a channel without
history). The message is the JSON argument or -d's ("-" and -d @- read it
from standard input, -d @FILE from a file), converted as "swill call"
converts a request, after the channel's declared message type when the
service describes one.

A server allows client publications only where its authorization hook
does: otherwise it answers 403, and the command fails with status 13.`)
	cf.register(fs)
	var data *string
	fs.Func("d", "the message as `JSON` (instead of the argument); @FILE reads it from a file, @- from standard input", func(s string) error {
		data = &s
		return nil
	})
	fs.Var(&md, "H", "request metadata `key=value` or \"key: value\" (repeatable), as for swill call")
	fs.BoolVar(&verbose, "v", false, "print the leading and trailing metadata on standard error")
	fs.BoolVar(&pretty, "pretty", false, "indent the JSON written")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 || len(pos) > 3 {
		return usageError(fs, "want URL, CHANNEL and the message as JSON, got %d arguments", len(pos))
	}
	if data != nil && len(pos) == 3 {
		return usageError(fs, "give the message either with -d or as an argument, not both")
	}
	if data == nil && len(pos) == 2 {
		return usageError(fs, "want the message: a JSON argument, \"-\" for standard input, or -d")
	}
	url, channel := pos[0], pos[1]
	var text []byte
	switch {
	case data != nil:
		r, closeData, err := openData(e, *data)
		if err != nil {
			return err
		}
		text, err = io.ReadAll(r)
		closeData()
		if err != nil {
			return fail(exitFailure, "reading -d %s: %v", *data, err)
		}
	case pos[2] == "-":
		if text, err = io.ReadAll(e.stdin); err != nil {
			return fail(exitFailure, "reading standard input: %v", err)
		}
	default:
		text = []byte(pos[2])
	}

	c := &caller{e: e, ctx: ctx, callCtx: ctx, name: rpc.PublishRPC, md: md.md, verbose: verbose, pretty: pretty}
	client, err := dial(ctx, url, &cf)
	if err != nil {
		return c.outcome(err)
	}
	defer client.Close()
	// The channel's declaration, when the service describes it, says how
	// to read the message (bytes, times); a service that cannot be
	// described still takes the message as plain JSON.
	c.method = nil
	if d, err := svcdesc.Fetch(ctx, client); err == nil {
		c.defs = d.Doc.Defs
		if ch := svcdesc.ChannelOf(d.Doc, channel); ch != nil {
			c.method = &introspect.Method{Request: introspect.Payload{Schema: ch.Message}}
		}
	} else if ctx.Err() != nil {
		return c.outcome(err)
	}
	msg, err := c.decode(text)
	if err != nil {
		return failWith(exitUsage, err)
	}
	return c.outcome(c.unary(client, rpc.PublishRequest{Channel: channel, Data: msg}))
}
