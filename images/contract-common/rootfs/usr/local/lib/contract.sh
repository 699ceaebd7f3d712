# Shared by the contract stand-ins (images/contract-*): small shell functions
# that check what a recipe hands the real image, and record what they saw.
# A stand-in is not the tool; it refuses where the real image would refuse.
#
# Set before sourcing: CONTRACT_NAME (e.g. "nextcloud"); optionally
# CONTRACT_RECORD, a file in the service's volume that keeps the record lines.

# Why the real image would not run: one clear line, exit 1.
refuse() {
  line="contract: ${CONTRACT_NAME:-stand-in}: REFUSED: $*"
  echo "$line" >&2
  if [ -n "${CONTRACT_RECORD:-}" ] && [ -d "$(dirname "$CONTRACT_RECORD")" ]; then echo "$line" >> "$CONTRACT_RECORD"; fi
  exit 1
}

# One line for the test to read: on stdout (docker logs) and in the record file.
record() {
  line="contract: ${CONTRACT_NAME:-stand-in}: $*"
  echo "$line"
  if [ -n "${CONTRACT_RECORD:-}" ]; then
    mkdir -p "$(dirname "$CONTRACT_RECORD")"
    echo "$line" >> "$CONTRACT_RECORD"
  fi
}

# The variables the real image cannot start without: present and not empty.
require_env() {
  for name in "$@"; do
    eval "value=\${$name-}"
    [ -n "$value" ] || refuse "$name is required by the real image and is missing or empty"
  done
}

# Env names only (values may be secrets).
env_names() {
  env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//'
}

looks_secret() {
  case "$1" in
    *_URL | *_URI | *_PATH | *_FILE) return 1 ;;
    *PASSWORD* | *SECRET* | *TOKEN* | *PASSPHRASE* | *PRIVATE_KEY*) return 0 ;;
    *) return 1 ;;
  esac
}

# NAME=value for plain values, NAME=(N chars) for credentials.
shown() {
  eval "value=\${$1-}"
  if looks_secret "$1"; then printf '%s=(%s chars)' "$1" "${#value}"; else printf '%s=%s' "$1" "$value"; fi
}

record_values() {
  out=''
  for name in "$@"; do out="$out $(shown "$name")"; done
  record "values:$out"
}

# Waits (up to $3 s, default 5) until host:port accepts a connection.
reachable() {
  tries=$(( ${3:-5} * 5 ))
  while [ "$tries" -gt 0 ]; do
    nc -w 1 "$1" "$2" -e true 2>/dev/null && return 0
    tries=$((tries - 1))
    usleep 200000
  done
  return 1
}

# Asks the contract postgres stand-in: pg_ask HOST PORT USER DB PASSWORD [check|setup|schema]
# Prints its answer ("ok", "empty", "denied: …").
pg_ask() {
  printf 'login %s %s %s %s\n' "$3" "$4" "$5" "${6:-check}" | nc -w 3 "$1" "$2" 2>/dev/null | head -n 1
}

# Logs in like the real app would, or refuses with the reason.
require_database() {
  reachable "$1" "$2" || refuse "database $1:$2 does not answer"
  answer=$(pg_ask "$@")
  case "$answer" in
    ok | empty) echo "$answer" ;;
    *) refuse "database login as $3 to $4 on $1:$2 failed: ${answer:-no answer}" ;;
  esac
}

# PING → PONG against the contract redis stand-in, or refuses.
require_redis() {
  reachable "$1" "$2" || refuse "redis $1:$2 does not answer"
  answer=$(printf 'PING\r\n' | nc -w 3 "$1" "$2" 2>/dev/null | head -n 1 | tr -d '\r')
  [ "$answer" = "+PONG" ] || refuse "redis $1:$2 answered '${answer}' to PING"
}

# postgresql://user:password@host:port/db → sets url_user url_password url_host url_port url_db
parse_db_url() {
  rest=${1#*://}
  creds=${rest%%@*}
  hostpart=${rest#*@}
  url_user=${creds%%:*}
  url_password=${creds#*:}
  url_db=${hostpart#*/}
  url_db=${url_db%%\?*}
  hostport=${hostpart%%/*}
  url_host=${hostport%%:*}
  url_port=5432
  case "$hostport" in *:*) url_port=${hostport#*:} ;; esac
}

# redis://host:port/n → sets url_host url_port
parse_redis_url() {
  rest=${1#*://}
  rest=${rest#*@}
  hostport=${rest%%/*}
  url_host=${hostport%%:*}
  url_port=6379
  case "$hostport" in *:*) url_port=${hostport#*:} ;; esac
}
