package output

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

// Prometheus serves the run's metrics at http://ADDR/metrics in the text
// exposition format while the test runs (--out prometheus=ADDR), for a
// Prometheus server to scrape. Counters and rates become counters, gauges
// gauges, and trends classic histograms (buckets in milliseconds for
// times) with _sum and _count. The page is rebuilt once per tick, so a
// scrape never touches the hot path.
type Prometheus struct {
	srv  *http.Server
	ln   net.Listener
	mu   sync.Mutex
	page []byte
}

// DefaultBuckets are the upper bounds of trend histograms, in the
// metric's unit (milliseconds for times).
var DefaultBuckets = []float64{0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000}

// NewPrometheus listens on addr.
func NewPrometheus(addr string) (*Prometheus, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("prometheus output: %w", err)
	}
	p := &Prometheus{ln: ln, page: []byte("# no tick yet\n")}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		page := p.page
		p.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write(page)
	})
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

// Addr is the address it listens on.
func (p *Prometheus) Addr() string { return p.ln.Addr().String() }

// Tick rebuilds the page from the run totals.
func (p *Prometheus) Tick(reg *metrics.Registry, now time.Time) error {
	page := Exposition(reg)
	p.mu.Lock()
	p.page = page
	p.mu.Unlock()
	return nil
}

// Close stops serving.
func (p *Prometheus) Close(*report.Summary) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := p.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

var badName = regexp.MustCompile(`[^a-zA-Z0-9_]`)

func promName(s string) string {
	s = badName.ReplaceAllString(s, "_")
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	return s
}

func promLabels(tags []metrics.Tag, extra ...string) string {
	var parts []string
	for _, t := range tags {
		v := strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(t.Value)
		parts = append(parts, promName(t.Key)+`="`+v+`"`)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		parts = append(parts, extra[i]+`="`+extra[i+1]+`"`)
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Exposition renders the registry's totals (warm-up included, as a
// scraper sees a live process) in Prometheus's text format.
func Exposition(reg *metrics.Registry) []byte {
	bySeries := map[*metrics.Metric][]*metrics.Series{}
	var ms []*metrics.Metric
	for _, s := range reg.Series() {
		if _, ok := bySeries[s.Metric]; !ok {
			ms = append(ms, s.Metric)
		}
		bySeries[s.Metric] = append(bySeries[s.Metric], s)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	var b bytes.Buffer
	for _, m := range ms {
		name := "surge_" + promName(m.Name)
		switch m.Type {
		case metrics.Counter:
			fmt.Fprintf(&b, "# TYPE %s_total counter\n", name)
		case metrics.Gauge:
			fmt.Fprintf(&b, "# TYPE %s gauge\n", name)
		case metrics.Rate:
			fmt.Fprintf(&b, "# HELP %s_total samples of the rate metric %s; %s_nonzero_total those that were non-zero\n# TYPE %s_total counter\n", name, m.Name, name, name)
		case metrics.Trend:
			fmt.Fprintf(&b, "# TYPE %s histogram\n", name)
		}
		for _, s := range bySeries[m] {
			a := s.Total.Clone()
			a.Merge(s.Warmup)
			tags := s.Tags.Tags()
			switch m.Type {
			case metrics.Counter:
				fmt.Fprintf(&b, "%s_total%s %s\n", name, promLabels(tags), num(a.Sum))
			case metrics.Gauge:
				fmt.Fprintf(&b, "%s%s %s\n", name, promLabels(tags), num(a.Last))
			case metrics.Rate:
				fmt.Fprintf(&b, "%s_total%s %d\n", name, promLabels(tags), a.Count)
			case metrics.Trend:
				counts := a.CumulativeCounts(DefaultBuckets)
				for i, le := range DefaultBuckets {
					fmt.Fprintf(&b, "%s_bucket%s %d\n", name, promLabels(tags, "le", num(le)), counts[i])
				}
				fmt.Fprintf(&b, "%s_bucket%s %d\n", name, promLabels(tags, "le", "+Inf"), a.Count)
				fmt.Fprintf(&b, "%s_sum%s %s\n", name, promLabels(tags), num(a.Sum))
				fmt.Fprintf(&b, "%s_count%s %d\n", name, promLabels(tags), a.Count)
			}
		}
		if m.Type == metrics.Rate {
			fmt.Fprintf(&b, "# TYPE %s_nonzero_total counter\n", name)
			for _, s := range bySeries[m] {
				a := s.Total.Clone()
				a.Merge(s.Warmup)
				fmt.Fprintf(&b, "%s_nonzero_total%s %d\n", name, promLabels(s.Tags.Tags()), a.Nonzero)
			}
		}
	}
	return b.Bytes()
}
