// Package series reads series of numbers for surge stats (one number per
// line, a CSV column, an NDJSON field) and describes them side by side:
// count, mean, standard deviation, min, percentiles up to p99.99, max.
//
// Readers follow benchfmt's habit: a line that does not parse is reported
// with its number and skipped, and the rest of the input is still used.
// Formats are a small registry (Register) so that other sources, such as
// saved surge load-test results, plug in without touching the command.
package series

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Options select what to read.
type Options struct {
	// Column selects a CSV column by header name or 1-based index.
	Column string
	// Field selects an NDJSON field by name; dots descend into objects
	// ("timings.duration").
	Field string
	// Warmup drops the first Warmup values.
	Warmup int
}

// Series is the numbers read from one source.
type Series struct {
	Name   string
	Values []float64
	// Dropped counts values discarded by Options.Warmup.
	Dropped int
}

// LineError is an input line that could not be used.
type LineError struct {
	Name string
	Line int
	Msg  string
}

func (e LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg) }

// Format is one way of reading numbers.
type Format struct {
	Name string
	// Detect reports whether this format reads the input, given its name,
	// its first bytes and the options. Formats are tried in registration
	// order; the built-in formats come last.
	Detect func(name string, head []byte, opts Options) bool
	// Read parses the whole input.
	Read func(r io.Reader, name string, opts Options) ([]float64, []LineError, error)
}

var (
	mu      sync.Mutex
	formats []Format
)

// Register adds a format ahead of the built-in ones. This is the hook for
// saved surge load-test results: a format whose Detect recognizes the
// result file and whose Read yields, say, the request durations.
func Register(f Format) {
	mu.Lock()
	defer mu.Unlock()
	formats = append(formats, f)
}

func builtins() []Format {
	return []Format{
		{Name: "ndjson", Detect: func(_ string, _ []byte, o Options) bool { return o.Field != "" }, Read: readNDJSON},
		{Name: "csv", Detect: func(_ string, _ []byte, o Options) bool { return o.Column != "" }, Read: readCSV},
		{Name: "lines", Detect: func(string, []byte, Options) bool { return true }, Read: readLines},
	}
}

func pick(name string, head []byte, opts Options) Format {
	mu.Lock()
	all := append(append([]Format(nil), formats...), builtins()...)
	mu.Unlock()
	for _, f := range all {
		if f.Detect(name, head, opts) {
			return f
		}
	}
	return builtins()[2]
}

// headSize is how much of an input Detect sees.
const headSize = 512

// Read reads one series from r.
func Read(r io.Reader, name string, opts Options) (Series, []LineError, error) {
	head := make([]byte, headSize)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Series{}, nil, fmt.Errorf("reading %s: %w", name, err)
	}
	head = head[:n]
	f := pick(name, head, opts)
	vals, bad, err := f.Read(io.MultiReader(bytesReader(head), r), name, opts)
	if err != nil {
		return Series{}, bad, err
	}
	s := Series{Name: name, Values: vals}
	if opts.Warmup > 0 {
		s.Dropped = min(opts.Warmup, len(vals))
		s.Values = vals[s.Dropped:]
	}
	if len(s.Values) == 0 {
		if s.Dropped > 0 {
			return s, bad, fmt.Errorf("%s: all %d values dropped by --warmup %d", name, s.Dropped, opts.Warmup)
		}
		return s, bad, fmt.Errorf("%s: no numbers in it", name)
	}
	return s, bad, nil
}

// ReadFile reads one series from a file, or from standard input for "-".
func ReadFile(path string, stdin io.Reader, opts Options) (Series, []LineError, error) {
	if path == "-" {
		return Read(stdin, "stdin", opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return Series{}, nil, fmt.Errorf("reading numbers: %w", err)
	}
	defer f.Close()
	return Read(f, path, opts)
}
