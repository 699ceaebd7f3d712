#!/bin/sh
# Named after the image's entrypoint (a Python script there). Like start.py:
# runs with the config at SYNAPSE_CONFIG_PATH (default /data/homeserver.yaml)
# and refuses when it is missing, then drops to UID:GID (991:991) — as which
# it must be able to write the signing key and media store under /data.
set -eu
CONTRACT_NAME=synapse
. /usr/local/lib/contract.sh
config=${SYNAPSE_CONFIG_PATH:-${SYNAPSE_CONFIG_DIR:-/data}/homeserver.yaml}
[ -f "$config" ] || refuse "Config file '$config' does not exist (the image no longer generates one from environment variables)"
uid=${UID:-991}
gid=${GID:-991}
# Top-level and nested "key: value" of the YAML, unquoted (good enough for our own template).
yaml() { sed -n "s/^ *$1: *\"\{0,1\}\([^\"]*\)\"\{0,1\} *\$/\1/p" "$config" | head -n 1; }
server_name=$(yaml server_name)
public_baseurl=$(yaml public_baseurl)
[ -n "$server_name" ] || refuse "$config has no server_name"
grep -q '^ *- port: 8008' "$config" || refuse "$config has no listener on port 8008 (the port the recipe's health check and routes use)"
grep -q 'names: \[client, federation\]' "$config" || refuse "$config: the 8008 listener does not serve client and federation"
[ "$(yaml name)" = psycopg2 ] || refuse "$config: database.name is not psycopg2"
require_database "$(yaml host)" "$(yaml port)" "$(yaml user)" "$(yaml dbname)" "$(yaml password)" check > /dev/null
signing_key=$(yaml signing_key_path)
media_store=$(yaml media_store_path)
for key in macaroon_secret_key form_secret; do [ -n "$(yaml $key)" ] || refuse "$config has no $key"; done
CONTRACT_RECORD=/data/contract.log
su -s /bin/sh synapse -c "touch '$signing_key' && mkdir -p '$media_store'" 2>/dev/null || refuse "cannot write $signing_key as $uid:$gid: /data must belong to $uid:$gid"
[ "$(id -u synapse)" = "$uid" ] || refuse "UID $uid is not the stand-in's synapse user"
record "started as $uid:$gid with $config; server_name=$server_name public_baseurl=$public_baseurl issuer=$(yaml issuer) client_id=$(yaml client_id); database login ok; env: $(env_names)"
exec su -s /bin/sh synapse -c 'exec httpd -f -p 8008 -h /srv/synapse'
