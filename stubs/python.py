#!/usr/bin/env python3
"""Python's ssl module as a trytls client stub:  stubs/python.py <host> <port> [ca-bundle]

One GET over ssl.create_default_context(), read to the end of the connection, then the verdict on the last line:
ACCEPT or REJECT. See stubs/README.md for the convention and the TLS_HARNESS_* variables.

create_default_context() verifies the chain and the host name (Python 3.10+ also sets OpenSSL security level 2).
Made strict beyond that, the way a careful client should be:
- hostname_checks_common_name = False: a certificate without a subjectAltName is refused (RFC 9525);
- no partial chains: a trusted intermediate is not a trust anchor (Python 3.13 turns VERIFY_X509_PARTIAL_CHAIN on);
- a trailing dot is dropped from the host name ("localhost." is "localhost"): RFC 6066 keeps it out of SNI, and
  OpenSSL's host name check would not match it.
"""
import os
import socket
import ssl
import sys

if len(sys.argv) < 3:
    print("usage: python.py <host> <port> [ca-bundle]", file=sys.stderr)
    sys.exit(2)
host, port = sys.argv[1], int(sys.argv[2])
cafile = sys.argv[3] if len(sys.argv) > 3 else None
address = os.environ.get("TLS_HARNESS_ADDRESS") or host
timeout = float(os.environ.get("TLS_HARNESS_TIMEOUT") or 10)

context = ssl.create_default_context(cafile=cafile)  # a bundle replaces the default store
context.hostname_checks_common_name = False
context.verify_flags &= ~getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0)

try:
    sock = socket.create_connection((address, port), timeout=timeout)
except OSError as error:  # no TCP connection at all: no verdict to give
    print(f"cannot connect: {error}", file=sys.stderr)
    sys.exit(1)

try:
    name = host[:-1] if host.endswith(".") else host
    with context.wrap_socket(sock, server_hostname=name) as tls:
        name = f"[{name}]" if ":" in name else name
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {name}:{port}\r\nConnection: close\r\n\r\n".encode())
        response = b""
        while chunk := tls.recv(65536):  # to the end: TLS 1.3 client-auth alerts arrive after the handshake
            response += chunk
        version = tls.version()
    status = response.split(b"\r\n", 1)[0].decode("latin-1")
    if not status.startswith("HTTP/"):
        raise ssl.SSLError(f"no HTTP response ({len(response)} bytes)")
    print(f"{version} {status}")
    print("ACCEPT")
except ssl.SSLCertVerificationError as error:
    print(f"certificate verify failed: {error.verify_message}")
    print("REJECT")
except (ssl.SSLError, OSError) as error:
    print(f"{type(error).__name__}: {error}")
    print("REJECT")
finally:
    sock.close()
