// Package wsvu is WebSocket for virtual users, the Go layer under k6's
// k6/ws and k6/websockets modules and surge's Go API. It speaks WebSocket
// with github.com/coder/websocket and records k6's metrics into the VU's
// shard: ws_sessions, ws_connecting (the handshake), ws_session_duration,
// ws_msgs_sent, ws_msgs_received and ws_ping (ping to pong).
//
// A Socket has two ways to deliver its events (open, message,
// binaryMessage, ping, pong, close, error):
//
//   - Run, for k6/ws: ws.connect blocks the VU while the session lasts, so
//     the session's loop runs on the VU's goroutine. Events and the
//     socket's timers (setTimeout, setInterval) call their handlers there,
//     one at a time, and a JS module can call into its runtime directly.
//   - Start, for k6/websockets (new WebSocket(url)): the session runs
//     beside the VU and hands each event to a function that the JS module
//     uses to queue the event onto its event loop.
//
// A reader goroutine owns the connection's read side in both modes; writes
// (send, sendBinary, close) come from the caller. Pings are sent by a
// goroutine that waits for the pong, because coder/websocket's Ping waits
// for it, and ws_ping is its round trip.
//
// EchoVU is the fast path of surge ws: one connection per VU, one message
// sent and its echo read per iteration.
package wsvu
