package output

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/testenv"
)

// startPrometheus runs a Prometheus server (Debian's prometheus package)
// with its remote-write receiver on a free loopback port, or skips the
// test when there is none on PATH (fails under CI=true: test.sh installs it).
func startPrometheus(t *testing.T) string {
	t.Helper()
	bin := testenv.Command(t, "prometheus", "prometheus")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--web.enable-remote-write-receiver")
	log, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		log.Close()
		if t.Failed() {
			out, _ := os.ReadFile(log.Name())
			t.Logf("prometheus log:\n%s", out)
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
	}
	t.Fatalf("prometheus at %s not ready after 20s", addr)
	return ""
}

// promQuery runs an instant query and returns the first result's value.
func promQuery(t *testing.T, base, q string, at time.Time) (float64, map[string]string) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?" + url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.Status != "success" || len(r.Data.Result) == 0 {
		t.Fatalf("query %s: %s %s, %d results", q, r.Status, r.Error, len(r.Data.Result))
	}
	v, _ := strconv.ParseFloat(fmt.Sprint(r.Data.Result[0].Value[1]), 64)
	return v, r.Data.Result[0].Metric
}

// TestRemoteWriteToPrometheus pushes to a real Prometheus server and
// reads the series back with PromQL: the server accepted every push (no
// failure at Close), stored the counter and labels, and its
// histogram_quantile works on the classic buckets.
func TestRemoteWriteToPrometheus(t *testing.T) {
	base := startPrometheus(t)
	o, err := NewRemoteWrite(base + "/api/v1/write")
	if err != nil {
		t.Fatal(err)
	}
	var last time.Time
	sampleRegistryAt(t, time.Now().Add(-3*time.Second).Truncate(time.Second), func(reg *metrics.Registry, now time.Time) {
		last = now
		o.Tick(reg, now)
	})
	if err := o.Close(nil); err != nil {
		t.Fatalf("Prometheus refused a push: %v", err)
	}
	v, labels := promQuery(t, base, "surge_http_reqs_total", last)
	if v != 30 || labels["name"] != `/api/"items", all` || labels["status"] != "200" {
		t.Errorf("surge_http_reqs_total %v %v, want 30 with the name and status labels", v, labels)
	}
	if v, _ := promQuery(t, base, "surge_http_req_failed_nonzero_total / surge_http_req_failed_total", last); v != 0.1 {
		t.Errorf("failure rate %v, want 0.1", v)
	}
	// 30 samples of 0.7 … 9.7 ms: the median lies in the (2.5, 5] bucket
	if v, _ := promQuery(t, base, "histogram_quantile(0.5, surge_http_req_duration_bucket)", last); v <= 2.5 || v > 5 {
		t.Errorf("median %v ms, want within the (2.5, 5] bucket", v)
	}
}
