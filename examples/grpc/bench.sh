#!/bin/sh
# bench.sh: gRPC unary on loopback, surge grpc vs ghz, same server, same
# concurrency (-c/-u), one shared connection each (both tools' default),
# alternating rounds so that both see the same machine.
#
#   sh examples/grpc/bench.sh [CONCURRENCY] [SECONDS] [ROUNDS]
set -eu
C=${1:-50}
S=${2:-10}
R=${3:-3}
BIN=${BIN:-/tmp/surge-bench}
mkdir -p "$BIN"
go build -o "$BIN/surge" ./cmd/surge
go build -o "$BIN/echoserver" ./examples/grpc/echoserver
[ -x /tmp/ghzbin/ghz ] || GOBIN=/tmp/ghzbin go install github.com/bojand/ghz/cmd/ghz@v0.121.0
ADDR=127.0.0.1:50077
"$BIN/echoserver" -addr $ADDR >/dev/null &
SRV=$!
trap 'kill $SRV' EXIT
sleep 0.5
PROTO=internal/protocol/grpcvu/grpctest
DATA='{"message":"hello"}'
i=1
while [ $i -le "$R" ]; do
  g=$(/tmp/ghzbin/ghz --insecure --import-paths $PROTO --proto echo.proto --call surge.echo.v1.Echo/Say \
      -d "$DATA" -c "$C" -z "${S}s" $ADDR | awk '/Requests\/sec/ {print $2}')
  s=$(cd "$BIN" && ./surge grpc $ADDR --plaintext --method surge.echo.v1.Echo/Say --data "$DATA" \
      -u "$C" -d "${S}s" --no-save -q | awk '/^ *iterations\.+:/ {sub("/s","",$3); print $3}')
  echo "round $i: ghz $g req/s, surge $s req/s, ratio $(echo "$s / $g" | bc -l | cut -c1-4)"
  i=$((i + 1))
done
