package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// Exit statuses; docs/cli.md lists them too.
const (
	exitOK          = 0   // success
	exitCallError   = 1   // the server answered the call with an error
	exitUsage       = 2   // bad command line or input (flags, JSON, unknown call)
	exitConnection  = 3   // no connection, or it was lost; the server could not be described
	exitTimeout     = 4   // the -timeout deadline passed
	exitFailure     = 5   // anything else: a file that cannot be read or written, a response that cannot be shown
	exitInterrupted = 130 // interrupted (Ctrl-C): the call was cancelled
)

// exitError is an error that ends the command with a given status.
type exitError struct {
	code int
	err  error
}

// Error returns the message of the wrapped error.
func (e *exitError) Error() string { return e.err.Error() }

// Unwrap returns the wrapped error.
func (e *exitError) Unwrap() error { return e.err }

// fail returns an error that ends the command with status code.
func fail(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

// failWith wraps err so that it ends the command with status code.
func failWith(code int, err error) error {
	return &exitError{code: code, err: err}
}

// errReported is an error whose message the command has already written.
var errReported = errors.New("reported")

// env is what a command reads and writes.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

const usageText = `swill is the command-line tool of swill/1 services.

Usage:
  swill list     [flags] SOURCE              the calls, one per line
  swill describe [flags] SOURCE [CALL]       the description (JSON Schema) as JSON
  swill call     [flags] URL CALL [JSON|-]   make a call
  swill gen ts   [flags] SOURCE              a typed TypeScript client
  swill gen go   [flags] SOURCE              a typed Go client
  swill docs     [flags] SOURCE              a Markdown or HTML reference
  swill version                              the tool's version

SOURCE is a server's URL (ws://host:port/path, wss://...) or a file
saved with "swill describe" ("-" reads standard input). Flags may come
before or after the arguments; "--" ends them. "swill COMMAND -h" lists a
command's flags.

Exit status: 0 success, 1 the server answered with an error, 2 bad usage
or input, 3 connection failure, 4 -timeout passed, 5 other failure, 130
interrupted.
`

// run runs the swill command with args (without the program name) and
// returns its exit status. Cancelling ctx (Ctrl-C) cancels the call in
// progress.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "list":
		err = cmdList(ctx, e, rest)
	case "describe":
		err = cmdDescribe(ctx, e, rest)
	case "call":
		err = cmdCall(ctx, e, rest)
	case "gen":
		err = cmdGen(ctx, e, rest)
	case "docs":
		err = cmdDocs(ctx, e, rest)
	case "version":
		fmt.Fprintln(stdout, "swill", version())
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
		return exitOK
	default:
		fmt.Fprintf(stderr, "swill: unknown command %q\n\n%s", cmd, usageText)
		return exitUsage
	}
	return exitCode(e, err)
}

// exitCode reports err and returns the status it ends the command with.
func exitCode(e *env, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	code := exitFailure
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if !errors.Is(err, errReported) {
		fmt.Fprintf(e.stderr, "swill: %v\n", err)
	}
	return code
}

func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" {
		return "(devel)"
	}
	return bi.Main.Version
}

// newFlags returns a flag set for a command whose usage line is usage,
// writing its messages to e.stderr.
func newFlags(e *env, name, usage, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: %s\n\n%s\n", usage, strings.TrimSpace(about))
		var has bool
		fs.VisitAll(func(*flag.Flag) { has = true })
		if has {
			fmt.Fprintln(e.stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args, allowing flags between the positional arguments
// (the flag package stops at the first one), and returns the positional
// arguments. After "--" everything is positional.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, failWith(exitUsage, errReported)
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError reports a wrong command line, with the command's usage.
func usageError(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(fs.Output(), "swill %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return failWith(exitUsage, errReported)
}
