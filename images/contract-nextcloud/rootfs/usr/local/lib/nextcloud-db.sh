# The database login the Nextcloud stand-in uses: the one in
# config/config.php, as the real Nextcloud does once installed (the
# environment is read only by the installation). Needs contract.sh (pg_ask).

# One setting of config.php as var_export writes it: `  'name' => 'value',`
config_value() {
  sed -n "s/^ *'$1' => '\(.*\)',\$/\1/p" /var/www/html/config/config.php 2>/dev/null | head -n 1
}

# Prints the database's answer to that login ("ok", or "denied: …").
config_login() {
  host=$(config_value dbhost)
  port=5432
  case "$host" in *:*) port=${host#*:} host=${host%%:*} ;; esac
  [ -n "$host" ] || { echo "denied: no dbhost in config/config.php"; return; }
  answer=$(pg_ask "$host" "$port" "$(config_value dbuser)" "$(config_value dbname)" "$(config_value dbpassword)" check)
  echo "${answer:-denied: the database at $host:$port does not answer}"
}
