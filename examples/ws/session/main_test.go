package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/protocol/wsvu/wstest"
)

var update = flag.Bool("update", false, "rewrite the golden file")

func TestExample(t *testing.T) {
	srv := wstest.Start()
	defer srv.Close()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, &out, srv.URL+"/echo"); err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/output.golden"
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}
