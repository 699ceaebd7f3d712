#!/bin/sh
# Bitnami's entrypoint validates the env (discourse-env / validate) and sets
# up the app before run.sh: the web container migrates the database on its
# first start; sidekiq expects it migrated. Refuses where Bitnami's
# validation or setup would stop.
set -eu
. /usr/local/lib/contract.sh
case "${1:-}" in
  /opt/bitnami/scripts/discourse/run.sh) CONTRACT_NAME=discourse role=web ;;
  /opt/bitnami/scripts/discourse-sidekiq/run.sh) CONTRACT_NAME=discourse-sidekiq role=sidekiq ;;
  *) exec "$@" ;;
esac
CONTRACT_RECORD=/bitnami/discourse/contract.log
# Bitnami's defaults (bn_discourse, bitnami_discourse, host "postgresql", an empty
# password refused unless ALLOW_EMPTY_PASSWORD=yes) would not match the db service.
require_env DISCOURSE_HOST DISCOURSE_DATABASE_HOST DISCOURSE_DATABASE_PORT_NUMBER DISCOURSE_DATABASE_NAME DISCOURSE_DATABASE_USER \
  DISCOURSE_DATABASE_PASSWORD DISCOURSE_REDIS_HOST DISCOURSE_USERNAME DISCOURSE_PASSWORD DISCOURSE_EMAIL
[ "${#DISCOURSE_PASSWORD}" -ge 10 ] || refuse "DISCOURSE_PASSWORD must be at least 10 characters (Bitnami's validation)"
# Discourse sends sign-up confirmations: the recipe requires SMTP.
require_env DISCOURSE_SMTP_HOST DISCOURSE_SMTP_PORT DISCOURSE_SMTP_USER DISCOURSE_SMTP_PASSWORD
require_redis "$DISCOURSE_REDIS_HOST" "${DISCOURSE_REDIS_PORT_NUMBER:-6379}"
if [ "$role" = web ]; then
  require_database "$DISCOURSE_DATABASE_HOST" "$DISCOURSE_DATABASE_PORT_NUMBER" "$DISCOURSE_DATABASE_USER" "$DISCOURSE_DATABASE_NAME" "$DISCOURSE_DATABASE_PASSWORD" setup > /dev/null
else
  schema=$(require_database "$DISCOURSE_DATABASE_HOST" "$DISCOURSE_DATABASE_PORT_NUMBER" "$DISCOURSE_DATABASE_USER" "$DISCOURSE_DATABASE_NAME" "$DISCOURSE_DATABASE_PASSWORD" schema)
  [ "$schema" = ok ] || refuse "database $DISCOURSE_DATABASE_NAME is not migrated yet (the web container does that)"
fi
record "$role started; env: $(env_names)"
record_values DISCOURSE_HOST DISCOURSE_ENABLE_HTTPS DISCOURSE_SITE_NAME DISCOURSE_EMAIL DISCOURSE_SMTP_HOST DISCOURSE_SMTP_USER DISCOURSE_SMTP_PASSWORD
exec "$@"
