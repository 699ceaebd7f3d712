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
  # As `occ maintenance:install` writes it (var_export, one setting a line),
  # with the database login it was given: from now on Nextcloud logs in with
  # what config.php says, not with the environment.
  {
    echo "<?php"
    echo "\$CONFIG = array ("
    echo "  'dbtype' => 'pgsql',"
    echo "  'dbhost' => '$POSTGRES_HOST',"
    echo "  'dbname' => '$POSTGRES_DB',"
    echo "  'dbuser' => '$POSTGRES_USER',"
    echo "  'dbpassword' => '$POSTGRES_PASSWORD',"
    echo "  'trusted_domains' => array ('$(echo "$NEXTCLOUD_TRUSTED_DOMAINS" | sed "s/ \{1,\}/', '/g")'),"
    echo "  'overwritehost' => '${OVERWRITEHOST:-}',"
    echo "  'overwriteprotocol' => '${OVERWRITEPROTOCOL:-}',"
    echo "  'overwrite.cli.url' => '${OVERWRITECLIURL:-}',"
    echo "  'installed' => true,"
    echo "  'contract_stand_in' => true,"
    echo ");"
  } > "$html/config/config.php"
  chmod 0640 "$html/config/config.php"
  echo "<?php \$OC_Version = array(31,0,9,0); // contract stand-in" > "$html/version.php"
  chown -R 33:33 "$html"
  record "installed as $NEXTCLOUD_ADMIN_USER with pgsql on $POSTGRES_HOST/$POSTGRES_DB; trusted domains: $NEXTCLOUD_TRUSTED_DOMAINS"
fi
record "started; env: $(env_names)"
record_values NEXTCLOUD_TRUSTED_DOMAINS OVERWRITEHOST OVERWRITEPROTOCOL OVERWRITECLIURL REDIS_HOST SMTP_HOST MAIL_FROM_ADDRESS MAIL_DOMAIN
exec "$@"
