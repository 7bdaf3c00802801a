package wsvu

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/coder/websocket"
	"github.com/surgeload/surge/internal/vu"
)

// EchoVU is the VU of a quick `surge ws` test: it keeps one session open
// and, each iteration, sends a message and reads one reply, so an
// iteration is one round trip. A session that fails is counted and
// reopened on the next iteration.
type EchoVU struct {
	st  *vu.State
	url string
	p   Params
	msg []byte
	typ websocket.MessageType
	s   *Socket
}

// NewEchoVU returns a VU that sends msg to url (as a binary message when
// binary is set).
func NewEchoVU(st *vu.State, url string, p Params, msg []byte, binary bool) *EchoVU {
	typ := websocket.MessageText
	if binary {
		typ = websocket.MessageBinary
	}
	return &EchoVU{st: st, url: url, p: p, msg: msg, typ: typ}
}

// RunIteration makes one round trip. Failures are samples and entries of
// the error log, not errors of the iteration.
func (v *EchoVU) RunIteration(ctx context.Context) error {
	if v.s == nil {
		s, _, err := Dial(ctx, v.st, v.url, v.p)
		if err != nil {
			return nil // counted by Dial
		}
		v.s = s
	}
	if err := v.roundTrip(ctx); err != nil {
		if ctx.Err() == nil {
			v.st.Registry.Errors.Add("ws", err.Error(), nameOr(v.p.Name, v.url))
		}
		v.end(websocket.StatusAbnormalClosure)
	}
	return nil
}

func (v *EchoVU) roundTrip(ctx context.Context) error {
	c, sk := v.s.conn, v.s.sinks
	if err := c.Write(ctx, v.typ, v.msg); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	sk.add(sk.sent, 1)
	_, r, err := c.Reader(ctx)
	if err != nil {
		return fmt.Errorf("receive: %w", err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("receive: %w", err)
	}
	sk.add(sk.received, 1)
	return nil
}

// end closes the session and records its duration.
func (v *EchoVU) end(code websocket.StatusCode) {
	if v.s == nil {
		return
	}
	s := v.s
	v.s = nil
	s.sinks.add(s.sinks.duration, ms(time.Since(s.start)))
	if code == websocket.StatusNormalClosure {
		s.conn.Close(code, "") // bounded by coder/websocket's own 5 s
	} else {
		s.conn.CloseNow()
	}
	s.cancel()
}

// Start does nothing: the session opens on the first iteration.
func (v *EchoVU) Start(context.Context) error { return nil }

// Stop closes the session normally.
func (v *EchoVU) Stop(context.Context) error {
	v.end(websocket.StatusNormalClosure)
	return nil
}
