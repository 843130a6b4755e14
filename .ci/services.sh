#!/usr/bin/env bash
# Checks that the local services the tests and benchmarks use answer on loopback, and starts any
# that does not with the command the development machines use. Fails loudly if one stays down.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_up() { # name port
  for _ in $(seq 1 60); do
    up "$2" && { echo "== $1 is up on 127.0.0.1:$2"; return 0; }
    sleep 0.5
  done
  echo "!! $1 did not come up on 127.0.0.1:$2" >&2
  return 1
}

ensure() { # name port start-command...
  local name=$1 port=$2
  shift 2
  if up "$port"; then
    echo "== $name is up on 127.0.0.1:$port"
    return 0
  fi
  echo "== starting $name"
  "$@" || echo "!! starting $name returned $?" >&2
  wait_up "$name" "$port"
}

status=0
ensure postgresql 5432 pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || status=1
ensure nats 4222 start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
  -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || status=1
ensure redis 6379 redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || status=1
exit $status
