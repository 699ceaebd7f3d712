#!/usr/bin/env bash
# Installs what this machine lacks for the portal's dev server and tests:
# Debian's Chromium (for Playwright), unzip, the Docker engine and what the
# provisioner's local images are built from (busybox-static, debootstrap,
# caddy), a JDK >= 21 check for Keycloak, the npm workspaces, the Ansible
# tools, and restic 0.18 and an S3 server built from source with the
# machine's Go (1.23 or newer). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
command -v mvn >/dev/null 2>&1 || need+=(maven)
# The provisioner drives a real Docker engine; images are built locally.
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx httpd && file -L /bin/busybox 2>/dev/null | grep -q static || need+=(busybox-static)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v caddy >/dev/null 2>&1 || need+=(caddy)
command -v file >/dev/null 2>&1 || need+=(file)
# The Swarm test makes Docker engines in network namespaces of their own.
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
# ssh-keygen for the known_hosts tests; the Swarm test reaches one worker's engine through OpenSSH's sshd.
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
sshd_missing=""
[ -x /usr/sbin/sshd ] || { need+=(openssh-server); sshd_missing=1; }
# The tests check docker-compose.yml with Compose (the v2 plugin, or Debian's docker-compose).
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${need[*]} (run: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "Installing Debian packages: ${need[*]}"
  apt-get update -qq
  # The tests start their own sshd on their own addresses: the package must not start one for the machine.
  made_policy=""
  if [ -n "$sshd_missing" ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  if [ -n "$made_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# Keycloak 26 needs Java 21 or newer; scripts/keycloak.ts picks it from /usr/lib/jvm or JAVA_HOME.
java_ok=""
for java in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} /usr/lib/jvm/*/bin/java; do
  [ -x "$java" ] || continue
  major=$("$java" -version 2>&1 | head -n 1 | sed -E 's/[^"]*"([0-9]+).*/\1/')
  if [ "${major:-0}" -ge 21 ] 2>/dev/null; then java_ok="$java"; break; fi
done
if [ -z "$java_ok" ]; then
  echo "Keycloak needs a JDK 21 or newer under /usr/lib/jvm (or JAVA_HOME); found none." >&2
  exit 1
fi

npm ci --no-audit --no-fund

# ansible-core and ansible-lint for the playbooks' checks (test/ansible), in .data/ansible-venv.
npx tsx scripts/ansible.ts

# restic 0.18 (the backup helper image) and versitygw (the S3 server of the backup tests), in .data/go-tools.
npx tsx scripts/go-tools.ts
