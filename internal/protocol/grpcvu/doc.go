// Package grpcvu is gRPC for virtual users, the Go layer under k6's
// k6/net/grpc module and surge's Go API: a Client per VU that loads proto
// files at run time (protocompile, no protoc), a protoset, or the server's
// own schema through server reflection, then makes unary calls and opens
// server, client and bidirectional streams with JSON messages
// (protojson over dynamicpb), recording k6's metrics into the VU's shard:
// grpc_req_duration (tagged name, method, rpc_type and the numeric status),
// grpc_streams, grpc_streams_msgs_sent and grpc_streams_msgs_received.
//
// Schemas are parsed once per process and shared: every VU of a k6 script
// loads the same files in its init context. A Conn can be shared by many
// VUs (surge grpc does, as ghz does), or owned by one (k6's connect).
//
// Errors split as in k6: a mistake in the script (an unknown method, a
// request that does not match the schema, a write after end) is a returned
// error; a call that fails on the wire is a Response or a stream end with
// a non-OK status, counted in the metrics and the error log, and the VU
// goes on.
//
// Streams deliver events (data, error, end) to a handler from their
// receive goroutine; a JS module queues them onto its event loop.
//
// Connect waits until the connection is ready and reports the first dial or
// TLS handshake failure with its reason.
// Note: grpc.WithBlock with WithReturnConnectionError gives the reason too,
// but only after retrying until the timeout (60 s by default).
//
// FixedVU is the fast path of a fixed request (surge grpc): the request is
// encoded once and replies are not decoded, which is where a generic
// client spends most of its time.
package grpcvu
