// A k6/ws script for the echo server (go run ./examples/ws/echoserver):
// open a session, send on open and on a timer, ping, close after three
// echoes. It is the acceptance script of the k6/ws module
// (internal/js/ws.go over internal/protocol/wsvu; see docs/scripts.md,
// "WebSocket"); cmd/surge's TestScriptProtocols runs it.
//
//   URL=ws://127.0.0.1:8090/echo surge run examples/ws/script.js
import ws from 'k6/ws';
import { check } from 'k6';

export const options = {
  vus: 2,
  iterations: 6,
  thresholds: { ws_msgs_received: ['count>=18'], ws_ping: ['p(95)<500'] },
};

export default () => {
  const url = __ENV.URL || 'ws://127.0.0.1:8090/echo';
  const res = ws.connect(url, { headers: { 'X-Test': 'example' }, subprotocols: ['chat'] }, (socket) => {
    let echoes = 0;
    socket.on('open', () => {
      socket.ping();
      socket.send('hello');
      socket.setInterval(() => socket.send('tick'), 10);
    });
    socket.on('message', () => {
      if (++echoes === 3) socket.close();
    });
    socket.on('error', (e) => console.error('socket error:', e.error()));
    socket.setTimeout(() => socket.close(), 5000);
  });
  check(res, { 'status is 101': (r) => r && r.status === 101 });
};
