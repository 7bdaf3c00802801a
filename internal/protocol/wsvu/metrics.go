package wsvu

import (
	"strconv"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/vu"
)

// Metrics are k6's WebSocket metrics.
type Metrics struct {
	Sessions        *metrics.Metric // ws_sessions: sessions opened
	Connecting      *metrics.Metric // ws_connecting: the opening handshake
	SessionDuration *metrics.Metric // ws_session_duration: from dialing to closed
	MsgsSent        *metrics.Metric // ws_msgs_sent
	MsgsReceived    *metrics.Metric // ws_msgs_received
	Ping            *metrics.Metric // ws_ping: from ping to pong
}

// RegisterMetrics creates (or finds) the WebSocket metrics in reg.
func RegisterMetrics(reg *metrics.Registry) *Metrics {
	return &Metrics{
		Sessions:        reg.MustNew("ws_sessions", metrics.Counter, metrics.Default),
		Connecting:      reg.MustNew("ws_connecting", metrics.Trend, metrics.Time),
		SessionDuration: reg.MustNew("ws_session_duration", metrics.Trend, metrics.Time),
		MsgsSent:        reg.MustNew("ws_msgs_sent", metrics.Counter, metrics.Default),
		MsgsReceived:    reg.MustNew("ws_msgs_received", metrics.Counter, metrics.Default),
		Ping:            reg.MustNew("ws_ping", metrics.Trend, metrics.Time),
	}
}

// sinks are one session's accumulators, looked up once when it opens.
type sinks struct {
	shard                                *metrics.Shard
	sessions, connecting, duration, ping *metrics.Agg
	sent, received                       *metrics.Agg
}

// sessionSinks tags a session as k6 does: url (or name), status and
// subproto, with the VU's tags and the caller's.
func sessionSinks(st *vu.State, m *Metrics, name string, status int, subproto string, extra *metrics.TagSet) *sinks {
	tags := append([]metrics.Tag{}, st.Tags.Tags()...)
	tags = append(tags, extra.Tags()...)
	tags = append(tags,
		metrics.Tag{Key: "url", Value: name},
		metrics.Tag{Key: "status", Value: strconv.Itoa(status)},
		metrics.Tag{Key: "subproto", Value: subproto},
	)
	ts := st.Registry.Intern(tags...)
	sh := st.Shard
	return &sinks{shard: sh,
		sessions: sh.Sink(m.Sessions, ts), connecting: sh.Sink(m.Connecting, ts),
		duration: sh.Sink(m.SessionDuration, ts), ping: sh.Sink(m.Ping, ts),
		sent: sh.Sink(m.MsgsSent, ts), received: sh.Sink(m.MsgsReceived, ts)}
}

func (s *sinks) add(a *metrics.Agg, v float64) {
	s.shard.Lock()
	a.Add(v)
	s.shard.Unlock()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
