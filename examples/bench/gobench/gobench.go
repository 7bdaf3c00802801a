// Package gobench is a small package with Go benchmarks for trying
// `surge bench go`: two ways to build a string, one of them quadratic.
package gobench

import "strings"

// Concat joins parts with +=, copying the prefix each time.
func Concat(parts []string) string {
	s := ""
	for _, p := range parts {
		s += p
	}
	return s
}

// Builder joins parts with a strings.Builder, growing it once.
func Builder(parts []string) string {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range parts {
		b.WriteString(p)
	}
	return b.String()
}
