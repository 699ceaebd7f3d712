#!/bin/sh
# The official entrypoint refuses to initialise a database without a superuser
# password (unless POSTGRES_HOST_AUTH_METHOD=trust); so does this one.
set -eu
CONTRACT_NAME=postgres
. /usr/local/lib/contract.sh
[ "${1:-}" = postgres ] || exec "$@"
if [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then require_env POSTGRES_PASSWORD; fi
mkdir -p "$PGDATA"
CONTRACT_RECORD="$PGDATA/contract.log"
if [ ! -f "$PGDATA/PG_VERSION" ]; then
  echo 17 > "$PGDATA/PG_VERSION"
  record "initialised $PGDATA: role ${POSTGRES_USER:-postgres}, database ${POSTGRES_DB:-${POSTGRES_USER:-postgres}}${POSTGRES_INITDB_ARGS:+, initdb args: $POSTGRES_INITDB_ARGS}"
fi
record "started; env: $(env_names)"
# -ll: keep listening; one session per connection.
exec nc -ll -p 5432 -e /usr/local/bin/contract-postgres-session
