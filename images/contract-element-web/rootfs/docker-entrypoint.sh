#!/bin/sh
# Element is a static app: it needs its config.json next to index.html. A
# missing or unreadable config shows "Your Element is misconfigured"; here
# the container refuses instead.
set -eu
CONTRACT_NAME=element-web
. /usr/local/lib/contract.sh
config=/app/config.json
[ -f "$config" ] || refuse "$config is missing"
grep -q '"m.homeserver"' "$config" || refuse "$config has no default_server_config.m.homeserver"
base_url=$(sed -n 's/.*"base_url": *"\([^"]*\)".*/\1/p' "$config" | head -n 1)
[ -n "$base_url" ] || refuse "$config has no m.homeserver base_url"
mkdir -p /app
cp /srv/element/index.html /app/index.html
record "started; config $config base_url=$base_url; env: $(env_names)"
exec "$@"
