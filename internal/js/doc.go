// Package js runs k6-compatible JavaScript (and TypeScript) load tests and
// Locust-style users on the load engine.
//
// # Design
//
// A script is bundled once by esbuild (ES modules, TypeScript and local
// imports become one CommonJS program with an inline source map) and
// compiled once by sobek into a Program shared by every VU. The program is
// wrapped in a function whose parameters are the per-VU pieces: require,
// open, __ENV, __VU, __ITER, console and native replacements for esbuild's
// interop helpers. Each VU is one sobek runtime that runs the program (k6's
// init context) once; a VU is used by one goroutine at a time, so a
// runtime needs no locks.
//
// The first runtime created, the controller, reads the exports (options,
// functions, user types); setup(), teardown(), handleSummary() and the
// Locust-style load shape run in it, serialized by a mutex. setup()'s
// result crosses to the VUs as JSON, as in k6.
//
// Modules (k6, k6/http, k6/metrics, k6/execution, k6/encoding, k6/crypto,
// k6/data, k6/net/grpc, k6/ws, k6/websockets, surge/locust, surge/sql) are
// built per VU on first require, and their members on first use
// (lazyObject): a VU pays only for what its script touches, which keeps
// thousands of VUs near 10 KB each. HTTP goes through httpvu, which
// records k6's http_* metrics into the VU's shard; a Response makes its
// fields when they are read. gRPC, WebSocket and SQL wrap grpcvu, wsvu and
// protocol/sql the same way, so their metrics are those of surge grpc,
// surge ws and the Go API.
//
// Event loop: gRPC stream events, asyncInvoke results and k6/websockets
// events arrive on other goroutines. A VU's eventLoop (made on first use)
// queues them as callbacks; each resource reserves the loop and its last
// callback releases it. After the exec function returns (or while its
// promise is pending), the VU runs callbacks until nothing is reserved, so
// handlers run on the VU's goroutine and inside their iteration, as in
// k6. What an iteration opened lives in a context that ends with it; the
// loop's epoch changes at the end, so late events of a cut-off stream are
// dropped instead of running in the next iteration. k6/ws needs no loop:
// ws.connect blocks, and wsvu runs the session on the caller's goroutine.
// Note: grpcvu.EventQueue would serve streams alone; one loop for every
// source keeps a single wait at the end of the iteration.
//
// surge/sql pools belong to the Script, keyed by DSN and size: sql.open
// runs in every VU's init code, and all get the first pool opened.
// Script.Close closes them.
//
// Errors: a script that does not compile, whose init code or setup throws
// or runs too long, or whose options are wrong is a *ScriptError (file,
// line, column). An exception in an iteration is an *Exception carrying
// its script line (engine.Locator), so the engine counts each distinct one
// once; the iteration ends and the test goes on. When an iteration's
// context ends, the runtime is interrupted and the iteration returns the
// context's error, which the engine counts as an interrupt, not an
// exception.
//
// Locust-style users (export const users = [...]) map onto the engine's
// Lifecycle: Start makes a new user instance and runs onStart, each
// iteration runs one task and its wait, Stop runs onStop. Tasks are dealt
// from a shuffled deck of weights, and an exported shape(t) becomes an
// engine.Shape ticked once a second.
package js
