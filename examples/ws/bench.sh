#!/bin/sh
# bench.sh: WebSocket echo on loopback with surge ws: each VU keeps one
# session and makes one round trip (a message out, its echo back) per
# iteration; messages/s counts both directions.
#
#   sh examples/ws/bench.sh [VUS] [SECONDS] [MESSAGE]
set -eu
U=${1:-50}
S=${2:-10}
MSG=${3:-hello}
BIN=${BIN:-/tmp/surge-bench}
mkdir -p "$BIN"
go build -o "$BIN/surge" ./cmd/surge
go build -o "$BIN/wsecho" ./examples/ws/echoserver
"$BIN/wsecho" -addr 127.0.0.1:8097 >/dev/null &
SRV=$!
trap 'kill $SRV' EXIT
sleep 0.5
cd "$BIN" && ./surge ws ws://127.0.0.1:8097/echo --send "$MSG" -u "$U" -d "${S}s" --no-save -q |
  awk '/ws_msgs_sent\.+:/ {s=$3} /ws_msgs_received\.+:/ {r=$3} /^ *iterations\.+:/ {rt=$3}
       END {printf "round trips/s %s, messages sent/s %s, received/s %s\n", rt, s, r}'
