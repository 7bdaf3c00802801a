package main

import (
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/golang/snappy"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// lastBody is a receiver that keeps the last body posted to it.
type lastBody struct {
	mu    sync.Mutex
	n     int
	body  []byte
	fails []string
}

func (l *lastBody) server(t *testing.T, decode func([]byte) ([]byte, error)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		body, err := decode(raw)
		l.mu.Lock()
		defer l.mu.Unlock()
		if err != nil {
			l.fails = append(l.fails, err.Error())
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		l.n++
		l.body = body
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (l *lastBody) get() (int, []byte, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n, l.body, l.fails
}

// otlpRequests sums the data points of the counter called name in an
// ExportMetricsServiceRequest.
func otlpCounter(t *testing.T, body []byte, name string) float64 {
	var req colmetricspb.ExportMetricsServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		t.Fatalf("OTLP body: %v", err)
	}
	var total float64
	for _, rm := range req.ResourceMetrics {
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if m.Name == name {
					for _, p := range m.GetSum().GetDataPoints() {
						total += p.GetAsDouble()
					}
				}
			}
		}
	}
	return total
}

// rwCounter sums the samples of the series whose __name__ is name in a
// remote-write WriteRequest, read field by field.
func rwCounter(t *testing.T, body []byte, name string) float64 {
	fields := func(b []byte, each func(num protowire.Number, v []byte, x uint64)) {
		for len(b) > 0 {
			num, typ, n := protowire.ConsumeTag(b)
			if n < 0 {
				t.Fatalf("bad protobuf tag")
			}
			b = b[n:]
			switch typ {
			case protowire.BytesType:
				v, m := protowire.ConsumeBytes(b)
				each(num, v, 0)
				n = m
			case protowire.Fixed64Type:
				x, m := protowire.ConsumeFixed64(b)
				each(num, nil, x)
				n = m
			default:
				_, m := protowire.ConsumeVarint(b)
				n = m
			}
			if n < 0 {
				t.Fatalf("bad protobuf field %d", num)
			}
			b = b[n:]
		}
	}
	var total float64
	fields(body, func(_ protowire.Number, series []byte, _ uint64) {
		var isIt bool
		var value float64
		fields(series, func(num protowire.Number, v []byte, _ uint64) {
			switch num {
			case 1: // Label
				var ln, lv string
				fields(v, func(num protowire.Number, s []byte, _ uint64) {
					if num == 1 {
						ln = string(s)
					} else {
						lv = string(s)
					}
				})
				isIt = isIt || (ln == "__name__" && lv == name)
			case 2: // Sample
				fields(v, func(num protowire.Number, _ []byte, x uint64) {
					if num == 1 {
						value = math.Float64frombits(x)
					}
				})
			}
		})
		if isIt {
			total += value
		}
	})
	return total
}

// TestOutOTLPAndRemoteWrite runs a 2-second test with both pushing
// exporters and checks that each receiver's last push holds the
// summary's http_reqs count.
func TestOutOTLPAndRemoteWrite(t *testing.T) {
	srv := okServer(t)
	var otlp, rw lastBody
	otlpSrv := otlp.server(t, func(b []byte) ([]byte, error) { return b, nil })
	rwSrv := rw.server(t, func(b []byte) ([]byte, error) { return snappy.Decode(nil, b) })
	summary := filepath.Join(t.TempDir(), "summary.json")
	code, stdout, stderr := runCLI(t, context.Background(), "run", "--url", srv.URL, "-u", "2", "-d", "2s", "--no-save",
		"--summary-export", summary, "--out", "otlp="+otlpSrv.URL, "--out", "prometheus-rw="+rwSrv.URL+"/api/v1/write")
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	reqs := readSummary(t, summary).value("http_reqs", "count")
	if reqs < 10 {
		t.Fatalf("http_reqs count %v", reqs)
	}
	n, body, fails := otlp.get()
	if n < 2 || len(fails) > 0 {
		t.Errorf("OTLP receiver: %d pushes (want one a second, 2 or more), failures %v", n, fails)
	}
	if got := otlpCounter(t, body, "surge_http_reqs"); got != reqs {
		t.Errorf("OTLP surge_http_reqs %v, summary %v", got, reqs)
	}
	n, body, fails = rw.get()
	if n < 2 || len(fails) > 0 {
		t.Errorf("remote-write receiver: %d pushes (want one a second, 2 or more), failures %v", n, fails)
	}
	if got := rwCounter(t, body, "surge_http_reqs_total"); got != reqs {
		t.Errorf("remote write surge_http_reqs_total %v, summary %v", got, reqs)
	}
}

// TestOutUnreachable: exporters whose endpoints are down do not stop the
// run; the summary is printed and each says so in a line of its own,
// counting its failed pushes.
func TestOutUnreachable(t *testing.T) {
	srv := okServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + ln.Addr().String()
	ln.Close()
	code, stdout, stderr := runCLI(t, context.Background(), "run", "--url", srv.URL, "-u", "1", "-d", "1s", "--no-save",
		"--out", "otlp="+gone, "--out", "prometheus-rw="+gone, "--out", "influxdb="+gone+"/write")
	if code == 0 {
		t.Errorf("exit 0, want the failed pushes reported in the exit code")
	}
	if !strings.Contains(stdout, "http_reqs") {
		t.Errorf("no summary after the run:\n%s", stdout)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 3 {
		t.Errorf("%d stderr lines, want one per failing output (3):\n%s", len(lines), stderr)
	}
	for _, want := range []string{"otlp output: ", "prometheus-rw output: ", "influxdb output: "} {
		var mine []string
		for _, l := range lines {
			if strings.HasPrefix(l, "surge run: "+want) {
				mine = append(mine, l)
			}
		}
		if len(mine) != 1 || !strings.Contains(mine[0], " failed, the first: ") || !strings.Contains(mine[0], "connection refused") {
			t.Errorf("stderr lines for %q: %q, want one counting refused pushes\n%s", want, mine, stderr)
		}
	}
}

// TestOutBadDestination: a bad exporter destination stops the run before
// it starts, with exit 2 and one line.
func TestOutBadDestination(t *testing.T) {
	srv := okServer(t)
	for _, tc := range []struct{ out, want string }{
		{"otlp=", "otlp needs a destination, e.g. otlp=http://127.0.0.1:4318"},
		{"otlp=not a url", `want an OTLP/HTTP endpoint like http://127.0.0.1:4318, got "not a url"`},
		{"prometheus-rw=ftp://x", `want a remote-write URL like http://127.0.0.1:9090/api/v1/write, got "ftp://x"`},
	} {
		code, _, stderr := runCLI(t, context.Background(), "run", "--url", srv.URL, "-d", "1s", "--no-save", "--out", tc.out)
		if code != 2 || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("--out %s: exit %d, stderr %q; want exit 2 and one line with %q", tc.out, code, stderr, tc.want)
		}
	}
}
