#!/usr/bin/env bash
# Simulates a fresh Debian machine of this kind for `npm test`: in a private mount namespace
# (unshare -m), /usr, /etc and /var become overlays on a tmpfs, so the host is untouched, and the
# server packages are purged there; then it runs the given command. Needs root.
# Usage: unshare -m --propagation private .ci/fresh-machine.sh npm test
set -euo pipefail
mkdir -p /tmp/fresh-machine
mount -t tmpfs tmpfs /tmp/fresh-machine
for d in usr etc var; do
  mkdir -p /tmp/fresh-machine/$d/up /tmp/fresh-machine/$d/work
  mount -t overlay overlay -o lowerdir=/$d,upperdir=/tmp/fresh-machine/$d/up,workdir=/tmp/fresh-machine/$d/work /$d
done
dpkg --purge --force-depends redis-server redis-tools memcached >/dev/null 2>&1
echo "after purge: redis-server=$(command -v redis-server || echo none) memcached=$(command -v memcached || echo none) redis-cli=$(command -v redis-cli || echo none)"
"$@"
