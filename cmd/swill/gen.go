package main

import (
	"context"
	"flag"
	"fmt"
	"go/token"
	"os"
	"path/filepath"

	"github.com/swillorg/swill-go/cmd/swill/internal/gen/docgen"
	"github.com/swillorg/swill-go/cmd/swill/internal/gen/gogen"
	"github.com/swillorg/swill-go/cmd/swill/internal/gen/gots"
)

func cmdGen(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, `swill gen: want a language, ts or go (see "swill gen ts -h")`)
		return failWith(exitUsage, errReported)
	}
	switch args[0] {
	case "ts":
		return genTS(ctx, e, args[1:])
	case "go":
		return genGo(ctx, e, args[1:])
	case "-h", "-help", "--help":
		fmt.Fprint(e.stdout, "Usage: swill gen ts|go [flags] SOURCE\n\nWrites a typed client; \"swill gen ts -h\" and \"swill gen go -h\" list the flags.\n")
		return flag.ErrHelp
	}
	fmt.Fprintf(e.stderr, "swill gen: unknown language %q, want ts or go (see \"swill gen ts -h\")\n", args[0])
	return failWith(exitUsage, errReported)
}

func genTS(ctx context.Context, e *env, args []string) error {
	var (
		cf  connFlags
		out string
		imp string
	)
	fs := newFlags(e, "gen ts", "swill gen ts [flags] SOURCE", `
Writes a TypeScript module with the service's types as interfaces, a
Service schema for SwillClient<Service>, and one typed function per call,
on top of the TypeScript client.`)
	cf.register(fs)
	fs.StringVar(&out, "o", "", "write to `file` instead of standard output")
	fs.StringVar(&imp, "import", gots.DefaultImport, "module `specifier` to import the TypeScript client from")
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
	src, err := gots.Generate(d.Doc, gots.Options{Import: imp, Source: pos[0]})
	if err != nil {
		return failWith(exitFailure, err)
	}
	return output(e, out, src)
}

func genGo(ctx context.Context, e *env, args []string) error {
	var (
		cf  connFlags
		out string
		pkg string
	)
	fs := newFlags(e, "gen go", "swill gen go [flags] SOURCE", `
Writes a Go file with the service's types as structs and a Client with one
typed method per call, on top of package clientgo.`)
	cf.register(fs)
	fs.StringVar(&out, "o", "", "write to `file` instead of standard output")
	fs.StringVar(&pkg, "package", "", "package `name` (default: the name of -o's directory, else api)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(fs, "want one SOURCE, got %d arguments", len(pos))
	}
	if pkg == "" {
		pkg = "api"
		if out != "" {
			if abs, err := filepath.Abs(out); err == nil {
				if dir := filepath.Base(filepath.Dir(abs)); token.IsIdentifier(dir) && !token.IsKeyword(dir) {
					pkg = dir
				}
			}
		}
	}
	d, err := load(ctx, e, pos[0], &cf)
	if err != nil {
		return err
	}
	src, err := gogen.Generate(d.Doc, gogen.Options{Package: pkg, Source: pos[0]})
	if err != nil {
		return failWith(exitUsage, err)
	}
	return output(e, out, src)
}

func cmdDocs(ctx context.Context, e *env, args []string) error {
	var (
		cf     connFlags
		out    string
		format string
		title  string
	)
	fs := newFlags(e, "docs", "swill docs [flags] SOURCE", `
Writes the service's reference: every call with its kind, doc string,
types, declared errors and an example request, then every named type with
its fields and their constraints.`)
	cf.register(fs)
	fs.StringVar(&out, "o", "", "write to `file` instead of standard output")
	fs.StringVar(&format, "format", "markdown", "markdown or html")
	fs.StringVar(&title, "title", "API reference", "the page's `title`")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError(fs, "want one SOURCE, got %d arguments", len(pos))
	}
	if format != "markdown" && format != "md" && format != "html" {
		return usageError(fs, "unknown format %q (want markdown or html)", format)
	}
	d, err := load(ctx, e, pos[0], &cf)
	if err != nil {
		return err
	}
	opts := docgen.Options{Title: title}
	var src []byte
	if format == "html" {
		if src, err = docgen.HTML(d.Doc, opts); err != nil {
			return failWith(exitFailure, err)
		}
	} else {
		src = append(docgen.Markdown(d.Doc, opts), '\n')
	}
	return output(e, out, src)
}

// output writes generated content to the file path, or to stdout when
// path is empty.
func output(e *env, path string, content []byte) error {
	if path == "" {
		if _, err := e.stdout.Write(content); err != nil {
			return failWith(exitFailure, err)
		}
		return nil
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		return failWith(exitFailure, err)
	}
	return nil
}
