# What Loomio's Rails app needs at boot (config/*.rb read these from ENV), for
# the app, the worker and every rake task alike: it refuses without them.
CONTRACT_RECORD=/loomio/storage/contract.log
require_env RAILS_ENV CANONICAL_HOST SUPPORT_EMAIL DATABASE_URL REDIS_URL DEVISE_SECRET SECRET_COOKIE_TOKEN \
  SMTP_SERVER SMTP_PORT SMTP_DOMAIN NOTIFICATIONS_EMAIL_ADDRESS \
  OAUTH_AUTH_URL OAUTH_TOKEN_URL OAUTH_PROFILE_URL OAUTH_SCOPE OAUTH_APP_KEY OAUTH_APP_SECRET \
  OAUTH_ATTR_UID OAUTH_ATTR_NAME OAUTH_ATTR_EMAIL
# With SMTP_AUTH set, Rails' mailer authenticates: it needs both credentials.
if [ -n "${SMTP_AUTH:-}" ]; then require_env SMTP_USERNAME SMTP_PASSWORD; fi
case "$DATABASE_URL" in postgres://* | postgresql://*) ;; *) refuse "DATABASE_URL is not a postgresql:// URL" ;; esac
case "$REDIS_URL" in redis://*) ;; *) refuse "REDIS_URL is not a redis:// URL" ;; esac
parse_db_url "$DATABASE_URL"
db_host=$url_host db_port=$url_port db_user=$url_user db_password=$url_password db_name=$url_db
parse_redis_url "$REDIS_URL"
require_redis "$url_host" "$url_port"
