#!/usr/bin/env bash
# One role and one database each for the portal, Keycloak and the provisioner,
# so none can read another's data. The postgres image runs this once, when the data
# volume is still empty; it is also safe to run again by hand (it only creates
# what is missing), e.g. after adding a database here:
#   docker compose exec postgres bash /docker-entrypoint-initdb.d/10-init-databases.sh
# Passwords come from the environment (PORTAL_DB_PASSWORD, KEYCLOAK_DB_PASSWORD,
# PROVISIONER_DB_PASSWORD)
# and reach SQL as psql variables, quoted by psql (:'var'), never spliced in.
# The image executes this file when it is executable and sources it otherwise,
# so it sets only what its entrypoint sets already.
set -Eeo pipefail

: "${PORTAL_DB_PASSWORD:?PORTAL_DB_PASSWORD is not set}"
: "${KEYCLOAK_DB_PASSWORD:?KEYCLOAK_DB_PASSWORD is not set}"
: "${PROVISIONER_DB_PASSWORD:?PROVISIONER_DB_PASSWORD is not set}"

psql --no-psqlrc --set=ON_ERROR_STOP=1 \
  --username "${POSTGRES_USER:-postgres}" --dbname postgres \
  --set=portal_password="$PORTAL_DB_PASSWORD" \
  --set=keycloak_password="$KEYCLOAK_DB_PASSWORD" \
  --set=provisioner_password="$PROVISIONER_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', role, password)
FROM (VALUES ('portal', :'portal_password'), ('keycloak', :'keycloak_password'), ('provisioner', :'provisioner_password')) AS wanted(role, password)
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = wanted.role)
\gexec

SELECT format('CREATE DATABASE %I OWNER %I', name, name)
FROM (VALUES ('portal'), ('keycloak'), ('provisioner')) AS wanted(name)
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = wanted.name)
\gexec

-- Only the owner (and the superuser) may connect to each database.
REVOKE ALL ON DATABASE portal FROM PUBLIC;
REVOKE ALL ON DATABASE keycloak FROM PUBLIC;
REVOKE ALL ON DATABASE provisioner FROM PUBLIC;
SQL
