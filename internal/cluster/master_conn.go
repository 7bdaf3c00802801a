package cluster

import (
	"crypto/subtle"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// wconn is one connected worker. The handler goroutine owns the stream;
// everything else in it belongs to the master's loop.
type wconn struct {
	name, addr string
	cpus       int
	out        chan *ToWorker
	done       chan struct{} // closed by the loop to end the stream

	ready     bool
	closed    bool          // the master ended its stream
	lost      bool          // it died or was cut off
	lostAt    time.Duration // since the start
	gone      string        // left before the start, or refused
	lastSeen  time.Time
	rates     runRates
	cpu       float64
	requests  int64
	vus       map[int]float64 // per run: active VUs, created VUs
	vusMax    map[int]float64
	peakVUs   float64
	assigns   []*assignment
	joinOrder int
	index     int // the segment it asked for, or -1
}

// helloTimeout bounds how long a connection may stay silent before its
// hello.
const helloTimeout = 10 * time.Second

// event is what a handler tells the loop.
type event struct {
	w      *wconn
	joined bool
	msg    *ToMaster
	err    error // the stream ended
}

// send queues m for the worker without blocking the loop; a worker whose
// queue is full is not reading and will be found lost by its heartbeat.
func (w *wconn) send(m *ToWorker) {
	if w.closed {
		return
	}
	select {
	case w.out <- m:
	default:
	}
}

// connect is the stream handler: handshake, then relay messages both ways
// until the loop closes the worker or the stream breaks.
func (m *Master) connect(st grpc.ServerStream) error {
	addr := "?"
	if p, ok := peer.FromContext(st.Context()); ok {
		addr = p.Addr.String()
	}
	var hello ToMaster
	helloc := make(chan error, 1)
	go func() { helloc <- st.RecvMsg(&hello) }()
	select {
	case err := <-helloc:
		if err != nil {
			return err
		}
	case <-time.After(helloTimeout):
		m.logf("refused a connection from %s: no hello within %s", addr, helloTimeout)
		return status.Error(codes.DeadlineExceeded, "no hello message in time")
	}
	if err := m.check(hello.Hello); err != nil {
		m.logf("refused a worker from %s: %s", addr, status.Convert(err).Message())
		return err
	}
	index := -1
	if hello.Hello.Index != nil {
		index = *hello.Hello.Index
	}
	w := &wconn{name: hello.Hello.Name, index: index, addr: addr, cpus: hello.Hello.CPUs, out: make(chan *ToWorker, 256), done: make(chan struct{}), vus: map[int]float64{}, vusMax: map[int]float64{}, rates: runRates{}}
	select {
	case m.events <- event{w: w, joined: true}:
	case <-m.quit:
		return status.Error(codes.Unavailable, "the master is shutting down")
	}
	recvErr := make(chan error, 1)
	go func() {
		for {
			msg := new(ToMaster)
			if err := st.RecvMsg(msg); err != nil {
				recvErr <- err
				return
			}
			select {
			case m.events <- event{w: w, msg: msg}:
			case <-w.done:
				return
			}
		}
	}()
	for {
		select {
		case msg := <-w.out:
			if err := st.SendMsg(msg); err != nil {
				m.post(event{w: w, err: err})
				return err
			}
		case <-w.done:
			for { // flush what was queued (the final Stop)
				select {
				case msg := <-w.out:
					if st.SendMsg(msg) != nil {
						return nil
					}
				default:
					return nil
				}
			}
		case err := <-recvErr:
			m.post(event{w: w, err: err})
			return nil
		}
	}
}

func (m *Master) post(e event) {
	select {
	case m.events <- e:
	case <-e.w.done:
	case <-m.quit:
	}
}

// check refuses a worker with the wrong token or version.
func (m *Master) check(h *Hello) error {
	if h == nil {
		return status.Error(codes.InvalidArgument, "expected a hello message first")
	}
	if subtle.ConstantTimeCompare([]byte(h.Token), []byte(m.cfg.Token)) != 1 {
		return status.Error(codes.Unauthenticated, "wrong token: the worker's --token does not match the master's")
	}
	if h.Protocol != Protocol || h.Version != m.cfg.Version {
		return status.Error(codes.FailedPrecondition, fmt.Sprintf("version mismatch: worker runs surge %s (protocol %d), master runs surge %s (protocol %d); run the same surge version everywhere", h.Version, h.Protocol, m.cfg.Version, Protocol))
	}
	if h.Index != nil && (*h.Index < 0 || *h.Index >= m.cfg.ExpectWorkers) {
		return status.Error(codes.InvalidArgument, fmt.Sprintf("worker index %d is out of range: the master expects %d workers (indexes 0 to %d)", *h.Index, m.cfg.ExpectWorkers, m.cfg.ExpectWorkers-1))
	}
	return nil
}
