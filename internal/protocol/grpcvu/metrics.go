package grpcvu

import (
	"strconv"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"google.golang.org/grpc/codes"
)

// Metrics are k6's gRPC metrics.
type Metrics struct {
	ReqDuration  *metrics.Metric // grpc_req_duration: unary calls, tagged method and status
	Streams      *metrics.Metric // grpc_streams: streams opened
	MsgsSent     *metrics.Metric // grpc_streams_msgs_sent
	MsgsReceived *metrics.Metric // grpc_streams_msgs_received
}

// RegisterMetrics creates (or finds) the gRPC metrics in reg.
func RegisterMetrics(reg *metrics.Registry) *Metrics {
	return &Metrics{
		ReqDuration:  reg.MustNew("grpc_req_duration", metrics.Trend, metrics.Time),
		Streams:      reg.MustNew("grpc_streams", metrics.Counter, metrics.Default),
		MsgsSent:     reg.MustNew("grpc_streams_msgs_sent", metrics.Counter, metrics.Default),
		MsgsReceived: reg.MustNew("grpc_streams_msgs_received", metrics.Counter, metrics.Default),
	}
}

// callKey is one tag combination of grpc_req_duration.
type callKey struct {
	path  string
	code  codes.Code
	extra *metrics.TagSet
}

// tagsFor builds k6's tags of a call: name and method are the full method
// path, status the numeric code, rpc_type the call kind.
func (c *Client) tagsFor(m *Method, code int, extra *metrics.TagSet) *metrics.TagSet {
	tags := append([]metrics.Tag{}, c.st.Tags.Tags()...)
	tags = append(tags, extra.Tags()...)
	tags = append(tags,
		metrics.Tag{Key: "name", Value: m.Path},
		metrics.Tag{Key: "method", Value: m.Path},
		metrics.Tag{Key: "rpc_type", Value: m.Kind()},
	)
	if code >= 0 {
		tags = append(tags, metrics.Tag{Key: "status", Value: strconv.Itoa(code)})
	}
	return c.st.Registry.Intern(tags...)
}

// recordCall adds one unary call to grpc_req_duration. The first call of
// an open-model iteration is measured from the iteration's due time (due,
// taken with vu.State.TakeDue on the VU's goroutine; zero otherwise).
func (c *Client) recordCall(m *Method, code codes.Code, extra *metrics.TagSet, start time.Time, d time.Duration, due time.Time) {
	if !due.IsZero() && due.Before(start) {
		d += start.Sub(due)
	}
	k := callKey{m.Path, code, extra}
	c.mu.Lock()
	a := c.cache[k]
	if a == nil {
		a = c.st.Shard.Sink(c.m.ReqDuration, c.tagsFor(m, int(code), extra))
		c.cache[k] = a
	}
	c.mu.Unlock()
	sh := c.st.Shard
	sh.Lock()
	a.Add(float64(d) / float64(time.Millisecond))
	sh.Unlock()
}
