package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/demo"
)

func TestExampleAgainstDemo(t *testing.T) {
	srv := httptest.NewServer(demo.New(demo.Options{}).Handler())
	defer srv.Close()
	var out bytes.Buffer
	res, err := run(context.Background(), srv.URL, 2*time.Second, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed() {
		t.Fatalf("thresholds failed:\n%s", out.String())
	}
	if e := res.Metric("errors"); e == nil || e["rate"] != 0 {
		t.Errorf("errors metric %v", e)
	}
	// 10:1 weights: far more GETs than POSTs on /api/items
	for _, want := range []string{"GET     /api/items", "POST    /api/items", "✓ status is 200", "✓ body has items"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}

func TestExampleFailsOnEmptyList(t *testing.T) {
	srv := httptest.NewServer(demo.New(demo.Options{EmptyItems: true}).Handler())
	defer srv.Close()
	var out bytes.Buffer
	res, err := run(context.Background(), srv.URL, time.Second, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Passed() || !strings.Contains(out.String(), "✗ errors: 'rate<0.01'") {
		t.Errorf("want the errors threshold to fail:\n%s", out.String())
	}
}
