package output

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/report"
)

// Influx writes each closed second of every series to an InfluxDB server
// in line protocol (--out influxdb=http://host:8086/write?db=surge, the
// v1 write API; a v2 URL with org and bucket works the same way). One POST
// per tick carries all new points, so the load generator makes one request
// a second, whatever the load.
//
// Writes leave from a goroutine of their own, so an InfluxDB that is slow
// or black-holed never holds up the test's clock; up to maxQueuedWrites
// seconds wait for it, and past that the oldest are dropped and counted as
// failed writes. Close waits for the queue for at most closeWait.
type Influx struct {
	url    string
	client *http.Client
	seen   cursor
	reg    *metrics.Registry

	queue  chan []byte
	done   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc

	// a failed write does not stop the run; Close reports them in one line
	sent sendLog
}

const (
	maxQueuedWrites = 120
	closeWait       = pushTimeout + time.Second
)

// NewInflux checks the URL and returns the output; nothing is sent until
// the first tick.
func NewInflux(raw string) (*Influx, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("influxdb output: want a write URL like http://127.0.0.1:8086/write?db=surge, got %q", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/write"
	}
	if u.Path == "/write" && u.Query().Get("db") == "" {
		q := u.Query()
		q.Set("db", "surge")
		u.RawQuery = q.Encode()
	}
	if u.Query().Get("precision") == "" {
		q := u.Query()
		q.Set("precision", "s")
		u.RawQuery = q.Encode()
	}
	o := &Influx{url: u.String(), client: &http.Client{Timeout: pushTimeout}, seen: cursor{},
		queue: make(chan []byte, maxQueuedWrites), done: make(chan struct{})}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	go o.loop()
	return o, nil
}

// Tick queues the points closed since the last tick for writing. A failed
// write is counted, not returned: the run goes on, and Close reports the
// failures.
func (o *Influx) Tick(reg *metrics.Registry, now time.Time) error {
	o.reg = reg
	o.enqueue(o.payload(reg, openSecond(reg, now)))
	return nil
}

// Close writes what is left, waits for the queue (at most closeWait), and
// reports the writes that failed.
func (o *Influx) Close(*report.Summary) error {
	if o.reg != nil {
		o.enqueue(o.payload(o.reg, finalSecond))
	}
	close(o.queue)
	select {
	case <-o.done:
	case <-time.After(closeWait):
		o.cancel() // what is still queued fails at once
		<-o.done
	}
	o.cancel()
	return o.sent.err("influxdb output", "writes")
}

// enqueue hands b to the writer; when maxQueuedWrites wait already, the
// oldest is dropped and counted as failed.
func (o *Influx) enqueue(b []byte) {
	if b == nil {
		return
	}
	for {
		select {
		case o.queue <- b:
			return
		default:
		}
		select {
		case <-o.queue:
			o.sent.add(errQueueFull)
		default:
		}
	}
}

// errQueueFull is the failure of a write dropped unsent.
var errQueueFull = fmt.Errorf("more than %d seconds of points waited for the server; the oldest were dropped", maxQueuedWrites)

func (o *Influx) loop() {
	defer close(o.done)
	for b := range o.queue {
		o.sent.add(o.write(b))
	}
}

// payload is the line protocol of the points not yet written, nil if none.
func (o *Influx) payload(reg *metrics.Registry, open int) []byte {
	var b bytes.Buffer
	start := reg.StartTime()
	for _, se := range reg.Series() {
		for _, p := range o.seen.fresh(se, open) {
			writeLine(&b, se, p, start)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return b.Bytes()
}

func (o *Influx) write(b []byte) error {
	req, err := http.NewRequestWithContext(o.ctx, http.MethodPost, o.url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

var (
	measurementEscaper = strings.NewReplacer(",", `\,`, " ", `\ `)
	tagEscaper         = strings.NewReplacer(",", `\,`, " ", `\ `, "=", `\=`)
)

// writeLine writes one point: measurement = metric name, tags = the
// series' tags, fields = the second's aggregates.
func writeLine(b *bytes.Buffer, se *metrics.Series, p metrics.Point, start time.Time) {
	b.WriteString(measurementEscaper.Replace(se.Metric.Name))
	for _, t := range se.Tags.Tags() {
		b.WriteByte(',')
		b.WriteString(tagEscaper.Replace(t.Key))
		b.WriteByte('=')
		b.WriteString(tagEscaper.Replace(t.Value))
	}
	if p.Warmup {
		b.WriteString(",warmup=true")
	}
	f := func(k string, v float64) string { return k + "=" + strconv.FormatFloat(v, 'g', -1, 64) }
	fields := []string{"count=" + strconv.FormatInt(p.Count, 10) + "i"}
	switch se.Metric.Type {
	case metrics.Counter:
		fields = append(fields, f("value", p.Sum))
	case metrics.Gauge:
		fields = append(fields, f("value", p.Last), f("min", p.Min), f("max", p.Max))
	case metrics.Rate:
		fields = append(fields, f("rate", float64(p.Nonzero)/float64(max(p.Count, 1))), "nonzero="+strconv.FormatInt(p.Nonzero, 10)+"i")
	case metrics.Trend:
		fields = append(fields, f("avg", p.Sum/float64(max(p.Count, 1))), f("min", p.Min), f("max", p.Max),
			f("p50", p.P50), f("p90", p.P90), f("p95", p.P95), f("p99", p.P99))
	}
	b.WriteByte(' ')
	b.WriteString(strings.Join(fields, ","))
	fmt.Fprintf(b, " %d\n", start.Add(time.Duration(p.Second)*time.Second).Unix())
}
