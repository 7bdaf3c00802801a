#!/usr/bin/env bash
# test.sh — everything the tests need on a fresh machine, then the tests.
#
#   ./test.sh            # install, start services, go vet, go test -race ./...
#   SKIP_INSTALL=1 ./test.sh   # skip apt-get when the packages are present
#
# It installs Debian packages (PostgreSQL, Chromium, iproute2, gcc, and
# Prometheus, which a remote-write test runs as its receiver), starts a
# private PostgreSQL with pg_stat_statements preloaded, exports its DSN as
# SURGE_TEST_PG_DSN, and runs go vet and go test. Tests that need a service
# fail (not skip) when CI=true and the service is missing.
set -euo pipefail
cd "$(dirname "$0")"
export PATH=$PATH:/usr/local/go/bin

need_pkgs=()
command -v chromium >/dev/null 2>&1 || need_pkgs+=(chromium)
[ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_pkgs+=(postgresql postgresql-contrib)
command -v ip >/dev/null 2>&1 || need_pkgs+=(iproute2)
command -v gcc >/dev/null 2>&1 || need_pkgs+=(gcc)
command -v prometheus >/dev/null 2>&1 || need_pkgs+=(prometheus)
command -v sudo >/dev/null 2>&1 || command -v runuser >/dev/null 2>&1 || need_pkgs+=(util-linux)
if [ "${SKIP_INSTALL:-}" != 1 ] && [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "test.sh: installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

go mod download

# A private PostgreSQL, owned by this script, on a port of its own.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGDIR=$(mktemp -d /tmp/surge-pg.XXXXXX)
PGPORT=${PGPORT:-55432}
chown postgres "$PGDIR" 2>/dev/null || true
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() { as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PGDIR"; }
trap cleanup EXIT
as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U postgres -A trust >/dev/null
# A port can be taken for a moment (the ports above 32768 are also the
# kernel's ephemeral ones): on failure show why, and try the next port.
for try in 1 2 3; do
  if as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
    -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all" start >/dev/null; then
    break
  fi
  echo "test.sh: PostgreSQL did not start on port $PGPORT; its log:" >&2
  tail -n 5 "$PGDIR/log" >&2 || true
  [ "$try" = 3 ] && exit 1
  PGPORT=$((PGPORT + 1))
done
as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' postgres
export SURGE_TEST_PG_DSN="postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable"
export SURGE_TEST_PGBIN="$PGBIN"

echo "test.sh: go vet"
go vet ./...
echo "test.sh: go test -race"
go test -race -count=1 -timeout 40m ./...
echo "test.sh: timing acceptance tests (without -race, which would slow the load generator 5-10x)"
go test -count=1 -timeout 10m -run 'TestRunOpenModelUnderStall' ./cmd/surge
