#!/bin/sh
# The official image installs Nextcloud on first start when the admin user
# and a complete database configuration are given; without them it shows the
# installation wizard and every `occ` hook fails. This stand-in refuses then.
set -eu
CONTRACT_NAME=nextcloud
. /usr/local/lib/contract.sh
case "${1:-}" in apache2-foreground | php-fpm) ;; *) exec "$@" ;; esac
html=/var/www/html
CONTRACT_RECORD=$html/data/contract.log
require_env NEXTCLOUD_ADMIN_USER NEXTCLOUD_ADMIN_PASSWORD POSTGRES_HOST POSTGRES_DB POSTGRES_USER POSTGRES_PASSWORD NEXTCLOUD_TRUSTED_DOMAINS
db_host=${POSTGRES_HOST%%:*}
db_port=5432
case "$POSTGRES_HOST" in *:*) db_port=${POSTGRES_HOST#*:} ;; esac
require_database "$db_host" "$db_port" "$POSTGRES_USER" "$POSTGRES_DB" "$POSTGRES_PASSWORD" setup > /dev/null
if [ -n "${REDIS_HOST:-}" ]; then require_redis "$REDIS_HOST" "${REDIS_HOST_PORT:-6379}"; fi
if [ -n "${SMTP_HOST:-}" ]; then require_env SMTP_PORT MAIL_FROM_ADDRESS MAIL_DOMAIN; fi
if [ ! -f "$html/version.php" ]; then
  # What the image's rsync of /usr/src/nextcloud and `occ maintenance:install` leave behind.
  cp -R /usr/src/nextcloud/. "$html/"
  mkdir -p "$html/data" "$html/config" "$html/custom_apps"
  {
    echo "<?php \$CONFIG = array ("
    echo "  'dbtype' => 'pgsql', 'dbhost' => '$POSTGRES_HOST', 'dbname' => '$POSTGRES_DB', 'dbuser' => '$POSTGRES_USER',"
    echo "  'trusted_domains' => array ('$(echo "$NEXTCLOUD_TRUSTED_DOMAINS" | sed "s/ \{1,\}/', '/g")'),"
    echo "  'overwritehost' => '${OVERWRITEHOST:-}', 'overwriteprotocol' => '${OVERWRITEPROTOCOL:-}', 'overwrite.cli.url' => '${OVERWRITECLIURL:-}',"
    echo "  'installed' => true, 'contract_stand_in' => true,"
    echo ");"
  } > "$html/config/config.php"
  echo "<?php \$OC_Version = array(31,0,9,0); // contract stand-in" > "$html/version.php"
  chown -R 33:33 "$html"
  record "installed as $NEXTCLOUD_ADMIN_USER with pgsql on $POSTGRES_HOST/$POSTGRES_DB; trusted domains: $NEXTCLOUD_TRUSTED_DOMAINS"
fi
record "started; env: $(env_names)"
record_values NEXTCLOUD_TRUSTED_DOMAINS OVERWRITEHOST OVERWRITEPROTOCOL OVERWRITECLIURL REDIS_HOST SMTP_HOST MAIL_FROM_ADDRESS MAIL_DOMAIN
exec "$@"
