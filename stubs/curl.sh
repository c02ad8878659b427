#!/bin/sh
# curl as a trytls client stub:  stubs/curl.sh <host> <port> [ca-bundle]
#
# One GET with the curl command line tool, then its verdict on the last line: ACCEPT (curl exit 0) or REJECT (curl
# gave up on the TLS connection). See stubs/README.md for the convention and the TLS_HARNESS_* variables.
# curl verifies the chain and the host name by default; this stub adds nothing to it.
set -u
host=$1 port=$2 ca=${3:-}
timeout=${TLS_HARNESS_TIMEOUT:-10}

set -- --silent --show-error --http1.1 --noproxy '*' --max-time "$timeout" --output /dev/null \
  --write-out 'HTTP/%{http_version} %{response_code}\n'
# A bundle replaces curl's default CA store; without one, curl uses the system store.
if [ -n "$ca" ]; then set -- "$@" --cacert "$ca"; fi
case $host in
  *:*) authority="[$host]" ;;  # IPv6 literal
  *) authority=$host ;;
esac
# Connect to TLS_HARNESS_ADDRESS instead of resolving the host name (SNI and the name check still use the host).
if [ -n "${TLS_HARNESS_ADDRESS:-}" ] && [ "$host" != "${TLS_HARNESS_ADDRESS}" ]; then
  set -- "$@" --resolve "$host:$port:$TLS_HARNESS_ADDRESS"
fi

nl='
'
output=$(curl "$@" "https://$authority:$port/" 2>&1)
status=$?
case $status in
  0) echo "${output##*$nl}"; echo ACCEPT ;;                  # the --write-out line
  6 | 7) echo "${output%%$nl*}" >&2; exit 1 ;;               # could not resolve or connect: no verdict to give
  *) echo "${output%%$nl*}"; echo REJECT ;;                  # curl's error line: "curl: (60) SSL certificate problem: …"
esac
