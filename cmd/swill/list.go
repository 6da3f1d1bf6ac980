package main

import (
	"context"
	"encoding/json"
	"text/tabwriter"

	"github.com/swillorg/swill-go/cmd/swill/internal/svcdesc"
	"github.com/swillorg/swill-go/introspect"
)

func cmdList(ctx context.Context, e *env, args []string) error {
	var cf connFlags
	fs := newFlags(e, "list", "swill list [flags] SOURCE", `
Lists the service's calls, one per line: name, kind, and the request and
response types in a short notation (see "swill docs" for the details).`)
	cf.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(fs, "want one SOURCE, got %d arguments", len(pos))
	}
	d, err := load(ctx, e, pos[0], &cf)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
	for _, m := range d.Doc.Handlers {
		_, _ = tw.Write([]byte(m.Name + "\t" + m.Kind + "\t" + signature(m) + "\n"))
	}
	return tw.Flush()
}

// signature writes a call's request and response types.
func signature(m introspect.Method) string {
	side := func(p introspect.Payload) string {
		t := svcdesc.TypeString(p.Schema)
		if p.Streams {
			return "stream of " + t
		}
		return t
	}
	return side(m.Request) + " → " + side(m.Response)
}

func cmdDescribe(ctx context.Context, e *env, args []string) error {
	var cf connFlags
	fs := newFlags(e, "describe", "swill describe [flags] SOURCE [CALL]", `
Prints the service's description as JSON: every call's kind, doc string,
declared errors and request and response types as JSON Schema, named
types under "$defs". With CALL, only that call and the types it uses.
The output is a description file the other commands accept as SOURCE.`)
	cf.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usageError(fs, "want SOURCE and at most one CALL, got %d arguments", len(pos))
	}
	d, err := load(ctx, e, pos[0], &cf)
	if err != nil {
		return err
	}
	doc := d.Doc
	if len(pos) == 2 {
		one, ok := svcdesc.Only(doc, pos[1])
		if !ok {
			return fail(exitUsage, "the service has no call %q", pos[1])
		}
		doc = one
	}
	return writeJSON(e, doc)
}

// writeJSON writes v as indented JSON on stdout.
func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return failWith(exitFailure, err)
	}
	return nil
}
