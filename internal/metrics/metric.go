package metrics

import (
	"fmt"
	"regexp"
)

// Type is the kind of a metric, as in k6.
type Type uint8

const (
	Counter Type = iota // a sum (http_reqs, data_sent)
	Gauge               // the last value, with min and max (vus)
	Rate                // the share of non-zero samples (http_req_failed, checks)
	Trend               // a distribution (http_req_duration)
)

func (t Type) String() string {
	switch t {
	case Counter:
		return "counter"
	case Gauge:
		return "gauge"
	case Rate:
		return "rate"
	case Trend:
		return "trend"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// ValueType says what a metric's values are, for formatting: times are in
// milliseconds, data in bytes.
type ValueType uint8

const (
	Default ValueType = iota
	Time
	Data
)

func (v ValueType) String() string {
	switch v {
	case Time:
		return "time"
	case Data:
		return "data"
	}
	return "default"
}

// Metric is a named metric in a Registry. Its identity is its pointer.
type Metric struct {
	Name     string
	Type     Type
	Contains ValueType
	id       int
}

var nameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_.\-]{0,127}$`)

// ValidName reports whether name is an acceptable metric name (k6's rule:
// letters, digits, underscores, at most 128 characters).
func ValidName(name string) bool { return nameRE.MatchString(name) }
