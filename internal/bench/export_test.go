package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// fakeResults are deterministic command results for the renderers.
func fakeResults() []CommandResult {
	mk := func(name string, walls []float64, code int) CommandResult {
		r := CommandResult{Command: Command{Name: name, Line: name, Params: []ParamValue{{"n", "1"}}}}
		for i, w := range walls {
			c := 0
			if i == 0 {
				c = code
			}
			r.Runs = append(r.Runs, Run{Wall: w, User: w / 10, Sys: w / 20, MaxRSS: 2 << 20, ExitCode: c})
		}
		return r
	}
	return []CommandResult{
		mk("sleep 0.04", []float64{0.0412, 0.0409, 0.0411, 0.0410, 0.0413, 0.0408, 0.0411, 0.0410, 0.0409, 0.0412}, 0),
		mk("sleep 0.02", []float64{0.0350, 0.0210, 0.0209, 0.0211, 0.0210, 0.0208, 0.0212, 0.0209, 0.0211, 0.0210}, 0),
		mk("flaky", []float64{0.0208, 0.0211, 0.0209, 0.0212, 0.0210, 0.0210, 0.0209, 0.0211, 0.0210, 0.0209}, 3),
	}
}

func TestCommandReportGolden(t *testing.T) {
	res := fakeResults()
	var b bytes.Buffer
	if err := WriteCommands(&b, res); err != nil {
		t.Fatal(err)
	}
	if err := WriteSummary(&b, Relatives(res, CompareOptions{})); err != nil {
		t.Fatal(err)
	}
	golden(t, "commands.txt.golden", b.Bytes())
	out := b.String()
	for _, want := range []string{
		"Time (mean ± σ):",
		"the first run was the slowest",
		"ignoring non-zero exit codes in 1 of 10 runs (first: 3)",
		"Peak memory: 2.0 MiB",
		"1.95 ± 0.02 times faster than 'sleep 0.04'",
		"~ no significant difference from flaky",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestExportsGolden(t *testing.T) {
	tables := Compare(parseFile(t, "old.txt"), parseFile(t, "new.txt"), CompareOptions{})
	cmds := CommandSummaries(fakeResults(), CompareOptions{})
	var md, csvb, js bytes.Buffer
	if err := WriteMarkdown(&md, cmds, tables); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(&csvb, cmds, tables); err != nil {
		t.Fatal(err)
	}
	golden(t, "export.md.golden", md.Bytes())
	golden(t, "export.csv.golden", csvb.Bytes())
	if !strings.Contains(md.String(), "| Encode/size=64-2 | 120.1n ± 3% | 102.8n ± 3% | -14.41% | p=0.000 n=10 |") {
		t.Errorf("markdown lacks the Encode row:\n%s", md.String())
	}
	if err := WriteJSON(&js, Report{Commands: cmds, Tables: ExportTables(tables)}); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("JSON export does not parse: %v", err)
	}
	if len(back.Commands) != 3 || back.Commands[2].ExitCodes[0] != 3 || back.Commands[0].Parameters["n"] != "1" {
		t.Errorf("commands round trip: %+v", back.Commands)
	}
	// sleep 0.04 against the fastest (sleep 0.02, median 21.0 ms).
	if c := back.Commands[0]; c.Relative < 1.9 || c.Relative > 2.0 || !c.Significant || c.P == nil || *c.P > 0.001 {
		t.Errorf("relative speed of sleep 0.04: %v ± %v p=%v", c.Relative, c.RelativeStddev, c.P)
	}
	if c := back.Commands[1]; c.Relative != 1 || c.P != nil {
		t.Errorf("the fastest is relative 1 with no test, got %v %v", c.Relative, c.P)
	}
	row := back.Tables[0].Rows[0]
	if row.Name != "Encode/size=64-2" || row.Delta != "-14.41%" || !row.Significant || *row.P > 0.001 || len(row.Old.Values) != 10 {
		t.Errorf("first row %+v", row)
	}
	// Hash-2 has 4 samples: its interval is infinite and left out.
	if h := back.Tables[0].Rows[4]; h.Old.Lo != nil || h.Significant {
		t.Errorf("Hash-2 row %+v: want no finite interval and not significant", h)
	}
}
