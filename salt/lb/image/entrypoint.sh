#!/bin/bash
# PID 1 of the LB container: runs nginx and consul-template side by side. If either one dies
# the container exits, so Docker restarts it (restart policy) and keepalived's check, which
# polls nginx, moves the VIP meanwhile.
set -euo pipefail

config="${1:?usage: lb-entrypoint CONSUL_TEMPLATE_CONFIG}"

# nginx starts with no server until consul-template's first render reloads it; until then
# the health location does not exist either, so the LB is not taken into service early.
nginx -g 'daemon off;' &
nginx_pid=$!
consul-template -config "$config" &
template_pid=$!

# consul-template stops on SIGINT (it ignores SIGTERM); nginx on SIGTERM.
stop_both() {
  kill -TERM "$nginx_pid" 2>/dev/null || true
  kill -INT "$template_pid" 2>/dev/null || true
  wait || true
}

# Salt sends SIGHUP after changing the config, the template or the TLS certificate:
# consul-template re-reads the first two, nginx (which keeps its old config if the new one
# fails its test) the certificate.
trap 'kill -HUP "$template_pid" 2>/dev/null || true; nginx -s reload || true' HUP
trap 'stop_both; exit 0' TERM INT

# `wait -n` also returns when a trapped signal arrives, hence the loop.
while kill -0 "$nginx_pid" 2>/dev/null && kill -0 "$template_pid" 2>/dev/null; do
  wait -n || true
done

echo "lb-entrypoint: nginx or consul-template exited; stopping the container" >&2
stop_both
exit 1
