#!/usr/bin/env bash
# Make a local PostgreSQL ready for the test suite (Debian 12, run as root).
#
#  * installs the `postgresql` package if the server binaries are missing;
#  * creates a cluster if there is none, starts the first one;
#  * creates role `billing` (password `billing`, SUPERUSER so tests can
#    CREATE/DROP DATABASE) and database `billing_test` if absent;
#  * prints the SQLAlchemy URL on stdout (last and only stdout line), e.g.
#      postgresql+psycopg://billing:billing@127.0.0.1:5432/billing_test
#
# Idempotent: safe to run any number of times.  Diagnostics go to stderr.
# Usage:  export TEST_DATABASE_URL="$(.ci/postgres.sh)"
set -euo pipefail

ROLE="${PG_TEST_ROLE:-billing}"
PASSWORD="${PG_TEST_PASSWORD:-billing}"
DB="${PG_TEST_DB:-billing_test}"

log() { echo "postgres.sh: $*" >&2; }

as_postgres() {
    if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

if [ "$(id -u)" -ne 0 ] && [ "$(id -un)" != postgres ]; then
    log "must run as root (or postgres)"; exit 1
fi

if ! command -v pg_lsclusters >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
fi

# First cluster: "<version> <name> <port> <status> ..."
cluster_line() { pg_lsclusters --no-header 2>/dev/null | awk 'NF {print; exit}'; }

if [ -z "$(cluster_line)" ]; then
    version="$(ls /usr/lib/postgresql | sort -V | tail -n1)"
    log "creating cluster $version/main"
    pg_createcluster "$version" main >&2
fi

read -r VERSION NAME PORT STATUS _ <<<"$(cluster_line)"

if [ "$STATUS" != online ]; then
    log "starting cluster $VERSION/$NAME on port $PORT"
    pg_ctlcluster "$VERSION" "$NAME" start >&2 || {
        # a stale pid file or a concurrent start: accept it if it is up now
        pg_lsclusters --no-header | awk -v v="$VERSION" -v n="$NAME" '$1==v && $2==n' | grep -q online \
            || { log "cluster failed to start"; exit 1; }
    }
fi

for _ in $(seq 1 60); do
    if as_postgres pg_isready -q -h 127.0.0.1 -p "$PORT" && as_postgres psql -p "$PORT" -qtAc 'select 1' >/dev/null 2>&1; then
        ready=1; break
    fi
    sleep 0.5
done
[ "${ready:-}" = 1 ] || { log "PostgreSQL not ready on port $PORT"; exit 1; }

psql_su() { as_postgres psql -p "$PORT" -v ON_ERROR_STOP=1 -qtA "$@"; }

if [ "$(psql_su -c "select 1 from pg_roles where rolname = '$ROLE'")" != 1 ]; then
    log "creating role $ROLE"
    psql_su -c "create role \"$ROLE\" login superuser password '$PASSWORD'" >/dev/null
else
    psql_su -c "alter role \"$ROLE\" login superuser password '$PASSWORD'" >/dev/null
fi

if [ "$(psql_su -c "select 1 from pg_database where datname = '$DB'")" != 1 ]; then
    log "creating database $DB"
    psql_su -c "create database \"$DB\" owner \"$ROLE\"" >/dev/null
fi

# Password auth over TCP must work (pg_hba: Debian default is scram for 127.0.0.1).
if ! PGPASSWORD="$PASSWORD" psql -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d "$DB" -qtAc 'select 1' >/dev/null 2>&1; then
    log "cannot log in as $ROLE over TCP on 127.0.0.1:$PORT (check pg_hba.conf)"; exit 1
fi

echo "postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
