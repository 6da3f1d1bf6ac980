package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"
)

// Exit statuses; docs/cli.md lists them too.
const (
	exitOK          = 0   // success
	exitCallError   = 1   // the server answered the call with an error whose code is outside 400..519 (those give code-390, see serverErrorStatus)
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
  swill sub      [flags] URL CHANNEL         print a channel's publications
  swill pub      [flags] URL CHANNEL [JSON]  publish a message
  swill gen ts   [flags] SOURCE              a typed TypeScript client
  swill gen go   [flags] SOURCE              a typed Go client
  swill docs     [flags] SOURCE              a Markdown or HTML reference
  swill version                              the tool's version

SOURCE is a server's URL (ws://host:port/path, wss://...) or a file
saved with "swill describe" ("-" reads standard input). Flags may come
before or after the arguments; "--" ends them; a negative number is an
argument. "swill COMMAND -h" lists a command's flags. Commands that
connect take -http-header, -dial-timeout and, for wss://, -cacert,
-cert/-key and -insecure.

Exit status: 0 success, 2 bad usage or input, 3 connection failure or
loss, 4 -timeout passed, 5 other failure, 130 interrupted; an error from
the server gives its code minus 390 for codes 400 to 519 (404: 14, 422: 32,
500: 110) and 1 for other codes, and a "swill-error: {...}" line (JSON) on
standard error.
`

// run runs the swill command with args (without the program name) and
// returns its exit status. Cancelling ctx (Ctrl-C) cancels the call in
// progress.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprintln(stderr, `swill: no command given (see "swill -h")`)
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
	case "sub":
		err = cmdSub(ctx, e, rest)
	case "pub":
		err = cmdPub(ctx, e, rest)
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
		fmt.Fprintf(stderr, "swill: unknown command %q (see \"swill -h\")\n", cmd)
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

// cmdFlags is a command's flag set with its help text.
type cmdFlags struct {
	*flag.FlagSet
	e            *env
	usage, about string
}

// newFlags returns a flag set for a command whose usage line is usage.
// The flag package writes nothing itself: -h prints the help on standard
// output, a bad flag one line on standard error (see parse).
func newFlags(e *env, name, usage, about string) *cmdFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &cmdFlags{FlagSet: fs, e: e, usage: usage, about: about}
}

// printHelp writes the command's help on standard output.
func (fs *cmdFlags) printHelp() {
	w := fs.e.stdout
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", fs.usage, strings.TrimSpace(fs.about))
	var has bool
	fs.VisitAll(func(*flag.Flag) { has = true })
	if has {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}

// parse parses args, allowing flags between the positional arguments
// (the flag package stops at the first one), and returns the positional
// arguments. A negative number ("-1", "-2.5e3") is positional unless it
// is the value of the flag before it; after "--" everything is. -h
// prints the help and returns flag.ErrHelp; a bad flag is a usage error.
func parse(fs *cmdFlags, args []string) ([]string, error) {
	var pos []string
	for {
		// The flag package would take a negative number for a flag:
		// parse up to the next one only.
		end := len(args)
		for i, a := range args {
			if a == "--" {
				break
			}
			if isNegativeNumber(a) && (i == 0 || !takesValue(fs.FlagSet, args[i-1])) {
				end = i
				break
			}
		}
		if err := fs.Parse(args[:end]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.printHelp()
				return nil, err
			}
			return nil, usageError(fs, "%v", err)
		}
		rest := fs.Args()
		if consumed := end - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, args[consumed:]...), nil
		}
		if len(rest) == 0 {
			if end == len(args) {
				return pos, nil
			}
			pos = append(pos, args[end])
			args = args[end+1:]
			continue
		}
		pos = append(pos, rest[0])
		args = append(rest[1:len(rest):len(rest)], args[end:]...)
	}
}

// isNegativeNumber reports whether s is a negative JSON number.
func isNegativeNumber(s string) bool {
	if len(s) < 2 || s[0] != '-' || s[1] < '0' || s[1] > '9' {
		return false
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// takesValue reports whether arg is a flag of fs that takes the next
// argument as its value (not a boolean, not written -name=value).
func takesValue(fs *flag.FlagSet, arg string) bool {
	if !strings.HasPrefix(arg, "-") || strings.Contains(arg, "=") {
		return false
	}
	f := fs.Lookup(strings.TrimLeft(arg, "-"))
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}

// usageError reports a wrong command line in one line on standard error,
// with a hint to the command's help.
func usageError(fs *cmdFlags, format string, args ...any) error {
	fmt.Fprintf(fs.e.stderr, "swill %s: %s (see \"swill %s -h\")\n", fs.Name(), fmt.Sprintf(format, args...), fs.Name())
	return failWith(exitUsage, errReported)
}
