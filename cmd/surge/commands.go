package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Exit codes. 99 for failed thresholds follows k6 so CI wiring carries over.
const (
	ExitOK               = 0
	ExitError            = 1   // a run-time failure (unreachable pprof URL, failed query …)
	ExitUsage            = 2   // bad flag, bad argument, bad config
	ExitScript           = 107 // a script that does not compile or whose init/setup throws
	ExitIterationErrors  = 108 // iterations ended in exceptions (see --no-exception-exit)
	ExitScriptAborted    = 108 // test.abort() ended the run, as k6's ScriptAborted
	ExitInterrupted      = 130 // a second Ctrl-C
	ExitThresholdsFailed = 99
)

// command is one row of the CLI's table. Each command lives in its own file
// and registers itself from init, so files never need to touch each other.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, stdout, stderr io.Writer, args []string) error
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("surge: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// exitError carries an exit code through the error chain.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withCode marks err with the process exit code it should produce.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// usageErrorf is a user error in flags or arguments: exit code 2.
func usageErrorf(format string, args ...any) error {
	return withCode(ExitUsage, fmt.Errorf(format, args...))
}

// silentError carries an exit code for a condition already reported on
// stdout (failed thresholds), so Main prints nothing more.
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Main runs the CLI with args (without the program name) and returns the
// process exit code. Errors are printed as one line on stderr.
func Main(ctx context.Context, stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return ExitOK
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, "surge", Version)
		return ExitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "surge: unknown command %q; run 'surge help' for the list\n", args[0])
		return ExitUsage
	}
	err := c.run(ctx, stdout, stderr, args[1:])
	return reportErr(stderr, c.name, err)
}

func reportErr(stderr io.Writer, name string, err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var s *silentError
	if errors.As(err, &s) {
		return s.code
	}
	for _, e := range leaves(err) {
		fmt.Fprintf(stderr, "surge %s: %s\n", name, oneLine(e.Error()))
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitError
}

// leaves splits errors joined with errors.Join (a run's own error and each
// failing output's) so that each is a line of its own; any other error is
// one.
func leaves(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		if e != nil {
			out = append(out, leaves(e)...)
		}
	}
	return out
}

// oneLine folds a multi-line error into one line, so a user error never
// looks like a stack trace.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "0.1.0-dev"

func usage(w io.Writer) {
	fmt.Fprintln(w, "surge: load testing and performance profiling in one binary")
	fmt.Fprintln(w, "\nusage: surge COMMAND [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nrun 'surge COMMAND -h' for a command's flags; docs/ has a page per command")
}

// newFlagSet returns a FlagSet that returns errors instead of printing them
// and exiting; parseFlags prints -h help.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("surge "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors come back as one line; -h prints below
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args, prints help to w for -h, and turns a flag error
// into a one-line usage error. Flags may follow positional arguments
// (surge run script.js -u 10), as in k6.
func parseFlags(fs *flag.FlagSet, args []string, w io.Writer) error {
	var tail []string
	for i, a := range args {
		if a == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	var positional []string
	for {
		if err := parseOnce(fs, args, w); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		rest := fs.Args()
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	positional = append(positional, tail...)
	return fs.Parse(append([]string{"--"}, positional...))
}

func parseOnce(fs *flag.FlagSet, args []string, w io.Writer) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(w, "usage of %s:\n", fs.Name())
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
			return err
		}
		return usageErrorf("%w%s", err, valueHint(fs, err))
	}
	return nil
}

// badValue finds the flag of the flag package's "invalid value" error.
var badValue = regexp.MustCompile(`^invalid (?:boolean )?value "[^"]*" for flag -([^:]+): `)

// valueHint says what a flag wanted when the flag package could only say
// "parse error".
func valueHint(fs *flag.FlagSet, err error) string {
	m := badValue.FindStringSubmatch(err.Error())
	if m == nil {
		return ""
	}
	return flagHint(fs.Lookup(m[1]))
}

// flagHint names the kind of value fl takes, for an error about a value
// it could not parse; "" when nothing more can be said.
func flagHint(fl *flag.Flag) string {
	if fl == nil {
		return ""
	}
	g, ok := fl.Value.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case time.Duration:
		return " (want a duration such as 500ms, 30s, 1m30s or 2h)"
	case int, int64, uint, uint64:
		return " (want a whole number)"
	case float64:
		return " (want a number such as 20 or 0.5)"
	case bool:
		return " (want true or false)"
	}
	return ""
}
