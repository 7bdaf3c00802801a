package output

import (
	"strings"
	"testing"
)

// TestParse: every output's bad destinations get one line that says what
// was expected.
func TestParse(t *testing.T) {
	tests := []struct {
		spec string
		want string // the whole error, or "" for a valid spec
	}{
		{"otlp=", `--out "otlp=": otlp needs a destination, e.g. otlp=http://127.0.0.1:4318`},
		{"otlp= ", `--out "otlp= ": otlp needs a destination, e.g. otlp=http://127.0.0.1:4318`},
		{"otlp=not a url", `otlp output: want an OTLP/HTTP endpoint like http://127.0.0.1:4318, got "not a url"`},
		{"otlp=127.0.0.1:4318", `otlp output: want an OTLP/HTTP endpoint like http://127.0.0.1:4318, got "127.0.0.1:4318"`},
		{"otlp=grpc://127.0.0.1:4317", `otlp output: want an OTLP/HTTP endpoint like http://127.0.0.1:4318, got "grpc://127.0.0.1:4317"`},
		{"otlp=http://", `otlp output: want an OTLP/HTTP endpoint like http://127.0.0.1:4318, got "http://"`},
		{"prometheus-rw=", `--out "prometheus-rw=": prometheus-rw needs a destination, e.g. prometheus-rw=http://127.0.0.1:9090/api/v1/write`},
		{"prometheus-rw=ftp://x", `prometheus-rw output: want a remote-write URL like http://127.0.0.1:9090/api/v1/write, got "ftp://x"`},
		{"prometheus-rw=http://[::1", `prometheus-rw output: want a remote-write URL like http://127.0.0.1:9090/api/v1/write, got "http://[::1"`},
		{"influxdb=", `--out "influxdb=": influxdb needs a destination, e.g. influxdb=http://127.0.0.1:8086/write?db=surge`},
		{"otlp", `--out "otlp": want TYPE=DESTINATION, e.g. json=points.ndjson or csv=stats`},
		{"xml=f", `--out "xml=f": unknown output "xml" (surge has json, csv, prometheus, prometheus-rw, otlp and influxdb)`},
		{"otlp=http://127.0.0.1:4318", ""},
		{"otlp=https://otlp.example:4318/otlp/v1/metrics", ""},
		{"prometheus-rw=http://127.0.0.1:9090", ""},
	}
	for _, tc := range tests {
		o, err := Parse(tc.spec)
		if tc.want == "" {
			if err != nil {
				t.Errorf("Parse(%q): %v", tc.spec, err)
				continue
			}
			if err := o.Close(nil); err != nil {
				t.Errorf("closing %q unused: %v", tc.spec, err)
			}
			continue
		}
		if err == nil {
			o.Close(nil)
			t.Errorf("Parse(%q) accepted it, want %q", tc.spec, tc.want)
			continue
		}
		if err.Error() != tc.want || strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q):\n got %s\nwant %s", tc.spec, err, tc.want)
		}
	}
}
