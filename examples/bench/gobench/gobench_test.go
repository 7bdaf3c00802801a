package gobench

import (
	"strings"
	"testing"
)

var parts = strings.Split(strings.Repeat("abcdefgh,", 64), ",")

func TestSameResult(t *testing.T) {
	if Concat(parts) != Builder(parts) {
		t.Fatal("Concat and Builder disagree")
	}
}

func BenchmarkConcat(b *testing.B) {
	for b.Loop() {
		Concat(parts)
	}
}

func BenchmarkBuilder(b *testing.B) {
	for b.Loop() {
		Builder(parts)
	}
}
