#!/bin/sh
# DO NOT COPY. A deliberately lax client stub: curl --insecure, the command-line twin of Node's
# `rejectUnauthorized: false` and the most common "fix" for a TLS error found online. It exists to show what
# `tls-harness check` reports for such a client: a FAIL for every scenario whose rejection is the client's to make.
#   stubs/lax-curl.sh <host> <port> [ca-bundle]
set -u
host=$1 port=$2
timeout=${TLS_HARNESS_TIMEOUT:-10}
set -- --insecure --silent --show-error --http1.1 --noproxy '*' --max-time "$timeout" --output /dev/null \
  --write-out 'HTTP/%{http_version} %{response_code} (certificate not verified)\n'
if [ -n "${TLS_HARNESS_ADDRESS:-}" ] && [ "$host" != "${TLS_HARNESS_ADDRESS}" ]; then
  set -- "$@" --resolve "$host:$port:$TLS_HARNESS_ADDRESS"
fi
case $host in *:*) authority="[$host]" ;; *) authority=$host ;; esac
nl='
'
output=$(curl "$@" "https://$authority:$port/" 2>&1)
case $? in
  0) echo "${output##*$nl}"; echo ACCEPT ;;
  6 | 7) echo "${output%%$nl*}" >&2; exit 1 ;;
  *) echo "${output%%$nl*}"; echo REJECT ;;
esac
