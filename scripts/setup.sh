#!/usr/bin/env bash
# Installs what this machine lacks for the portal's dev server and tests:
# Debian's Chromium (for Playwright), unzip, a JDK >= 21 check for Keycloak,
# and the npm workspaces. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
command -v mvn >/dev/null 2>&1 || need+=(maven)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${need[*]} (run: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "Installing Debian packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Keycloak 26 needs Java 21 or newer; scripts/keycloak.ts picks it from /usr/lib/jvm or JAVA_HOME.
if ! ls -d /usr/lib/jvm/*2[1-9]* /usr/lib/jvm/*-[3-9][0-9]* >/dev/null 2>&1 && [ -z "${JAVA_HOME:-}" ]; then
  echo "Keycloak needs a JDK 21 or newer under /usr/lib/jvm (or JAVA_HOME)." >&2
  exit 1
fi

npm ci --no-audit --no-fund
