package pgstat

import (
	"math"
	"strconv"
	"strings"
)

// fmtMs prints milliseconds with three decimals, as EXPLAIN does, and
// thousands separators above a second.
func fmtMs(ms float64) string {
	s := strconv.FormatFloat(ms, 'f', 3, 64)
	if ms >= 1000 {
		s = strconv.FormatFloat(ms, 'f', 1, 64)
	}
	return group(s)
}

// fmtCount prints a count with thousands separators; fractional counts
// (per-loop averages in PostgreSQL 18) keep two decimals.
func fmtCount(v float64) string {
	if v == math.Trunc(v) || math.Abs(v) >= 1000 {
		return group(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// fmtFactor prints a misestimate factor: one decimal below 10.
func fmtFactor(f float64) string {
	if f < 10 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return fmtCount(math.Round(f))
}

func fmtPct(share float64) string {
	return strconv.FormatFloat(100*share, 'f', 1, 64) + "%"
}

// group inserts thousands separators into the integer part of a number.
func group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + b.String() + frac
}
