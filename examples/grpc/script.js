// A k6 script for the Echo server (go run ./examples/grpc/echoserver):
// a unary call with checks and a bidirectional stream whose replies are
// counted in its 'end' handler. It is the acceptance script of the
// k6/net/grpc module (internal/js/grpc.go over internal/protocol/grpcvu;
// see docs/scripts.md, "gRPC"); cmd/surge's TestScriptProtocols runs it.
//
//   ADDR=127.0.0.1:50051 surge run examples/grpc/script.js
import grpc from 'k6/net/grpc';
import { check } from 'k6';

export const options = {
  vus: 2,
  iterations: 10,
  thresholds: {
    'grpc_req_duration{status:0}': ['p(95)<500'],
    grpc_streams_msgs_received: ['count>=30'],
  },
};

const client = new grpc.Client();
client.load(['../../internal/protocol/grpcvu/grpctest'], 'echo.proto');

export default () => {
  client.connect(__ENV.ADDR || '127.0.0.1:50051', { plaintext: true, timeout: '5s' });

  const res = client.invoke('surge.echo.v1.Echo/Say', { message: 'hello' }, { metadata: { 'x-run': 'example' } });
  check(res, {
    'status is OK': (r) => r && r.status === grpc.StatusOK,
    'echoed': (r) => r && r.message.message === 'hello',
  });

  const stream = new grpc.Stream(client, 'surge.echo.v1.Echo/Chat');
  let replies = 0;
  stream.on('data', () => { replies++; });
  stream.on('error', (e) => console.error('chat failed:', e.message));
  stream.on('end', () => {
    check(replies, { 'three chat replies': (n) => n === 3 });
    client.close();
  });
  for (const m of ['a', 'b', 'c']) {
    stream.write({ message: m });
  }
  stream.end();
};
