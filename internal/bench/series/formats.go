package series

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// parseNumber accepts a finite decimal number.
func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("not a number: %q", clip(s))
	}
	return v, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// readLines reads one number per line; blank lines and lines starting
// with '#' are skipped.
func readLines(r io.Reader, name string, _ Options) ([]float64, []LineError, error) {
	var vals []float64
	var bad []LineError
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		v, err := parseNumber(t)
		if err != nil {
			bad = append(bad, LineError{name, line, err.Error()})
			continue
		}
		vals = append(vals, v)
	}
	if err := sc.Err(); err != nil {
		return vals, bad, fmt.Errorf("reading %s: %w", name, err)
	}
	return vals, bad, nil
}

// readCSV reads one column. A column given by name needs a header row; a
// column given by index skips a first row whose cell is not a number.
func readCSV(r io.Reader, name string, opts Options) ([]float64, []LineError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	idx, byName := -1, false
	if n, err := strconv.Atoi(opts.Column); err == nil {
		if n < 1 {
			return nil, nil, fmt.Errorf("--column %d: columns count from 1", n)
		}
		idx = n - 1
	} else {
		byName = true
	}
	var vals []float64
	var bad []LineError
	for rec := 0; ; rec++ {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, LineError{name, pe.Line, pe.Err.Error()})
				continue
			}
			return vals, bad, fmt.Errorf("reading %s: %w", name, err)
		}
		if rec == 0 && byName {
			idx = indexOf(row, opts.Column)
			if idx < 0 {
				return nil, nil, fmt.Errorf("%s: no column %q in header %s", name, opts.Column, strings.Join(row, ","))
			}
			continue
		}
		if idx >= len(row) {
			bad = append(bad, LineError{name, line, fmt.Sprintf("only %d columns, no column %s", len(row), opts.Column)})
			continue
		}
		v, err := parseNumber(row[idx])
		if err != nil {
			if rec == 0 {
				continue // a header row
			}
			bad = append(bad, LineError{name, line, err.Error()})
			continue
		}
		vals = append(vals, v)
	}
	return vals, bad, nil
}

func indexOf(row []string, col string) int {
	for i, c := range row {
		if strings.TrimSpace(c) == col {
			return i
		}
	}
	return -1
}

// readNDJSON reads one field of each JSON object, one object per line.
// Numbers and numeric strings are accepted.
func readNDJSON(r io.Reader, name string, opts Options) ([]float64, []LineError, error) {
	var vals []float64
	var bad []LineError
	path := strings.Split(opts.Field, ".")
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for line := 1; sc.Scan(); line++ {
		t := bytes.TrimSpace(sc.Bytes())
		if len(t) == 0 {
			continue
		}
		v, err := field(t, path)
		if err != nil {
			bad = append(bad, LineError{name, line, err.Error()})
			continue
		}
		vals = append(vals, v)
	}
	if err := sc.Err(); err != nil {
		return vals, bad, fmt.Errorf("reading %s: %w", name, err)
	}
	return vals, bad, nil
}

func field(line []byte, path []string) (float64, error) {
	var obj any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return 0, fmt.Errorf("not JSON: %v", err)
	}
	cur := obj
	for i, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return 0, fmt.Errorf("field %q: %q is not an object", strings.Join(path, "."), strings.Join(path[:i], "."))
		}
		if cur, ok = m[k]; !ok {
			return 0, fmt.Errorf("no field %q", strings.Join(path, "."))
		}
	}
	switch v := cur.(type) {
	case json.Number:
		return parseNumber(v.String())
	case string:
		return parseNumber(v)
	}
	return 0, fmt.Errorf("field %q is not a number: %v", strings.Join(path, "."), cur)
}
