"""Batch probe for tls-harness: Python's ssl module against many endpoints in one interpreter.

Reads a JSON list of requests on stdin, prints a JSON list of outcomes (same order) on stdout. Each request is one
TLS client: an ssl.SSLContext configured the way a Python user configures one (ssl.create_default_context, CA file,
client certificate, CRLs, versions, ciphers, ALPN), a TCP connection to host:port, the handshake with
server_hostname (SNI and host name check), one HTTP/1.1 request, and the response read to the end of the connection.
A probe never raises: the exception class and str(exception) are the outcome.
"""
import concurrent.futures
import http.client
import json
import socket
import ssl
import sys
import urllib.error
import urllib.request

VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


def context(request):
    # create_default_context(cafile=None) loads the system's default CA store; with a cafile, only that file.
    ctx = ssl.create_default_context(cafile=request.get("cafile"))
    if not request["verify"]:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if request.get("crlfile"):
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
        ctx.load_verify_locations(cafile=request["crlfile"])
    if request.get("certfile"):
        ctx.load_cert_chain(request["certfile"], request["keyfile"])
    if request.get("minVersion"):
        ctx.minimum_version = VERSIONS[request["minVersion"]]
    if request.get("maxVersion"):
        ctx.maximum_version = VERSIONS[request["maxVersion"]]
    if request.get("ciphers"):
        ctx.set_ciphers(request["ciphers"])
    if request.get("alpn"):
        ctx.set_alpn_protocols(request["alpn"])
    return ctx


def failure(phase, error, extra=None):
    outcome = {"ok": False, "phase": phase, "errorName": type(error).__name__, "message": str(error)}
    verify_code = getattr(error, "verify_code", None)
    if verify_code is not None:
        outcome["verify"] = "%d (%s)" % (verify_code, getattr(error, "verify_message", ""))
    reason = getattr(error, "reason", None)
    if isinstance(error, urllib.error.URLError) and isinstance(reason, BaseException):
        outcome["cause"] = {"name": type(reason).__name__, "message": str(reason)}
    outcome.update(extra or {})
    return outcome


def via_urllib(request, ctx, name):
    """urllib.request.urlopen("https://<name>:<port>/"), its connection made to request["host"] (no DNS)."""

    class Connection(http.client.HTTPSConnection):
        def connect(self):
            raw = socket.create_connection((request["host"], self.port), self.timeout)
            self.sock = self._context.wrap_socket(raw, server_hostname=self.host)

    class Handler(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(Connection, req, context=ctx)

    host = "[%s]" % name if ":" in name else name
    opener = urllib.request.build_opener(Handler(context=ctx))
    try:
        with opener.open("https://%s:%d/" % (host, request["port"]), timeout=request["timeout"]) as response:
            body = response.read()
            status = response.status
    except Exception as error:
        # urlopen hides the socket: like fetch, the failure surfaces as "the request failed".
        return failure("request", error)
    return {"ok": True, "phase": "response", "status": status, "body": body.decode("latin-1")}


def probe(request):
    try:
        ctx = context(request)
    except Exception as error:  # a setting this Python/OpenSSL refuses: the outcome, before any connection
        return failure("call", error)
    name = request.get("servername") or request["host"]
    if request.get("via") == "urllib":
        return via_urllib(request, ctx, name)
    try:
        raw = socket.create_connection((request["host"], request["port"]), timeout=request["timeout"])
    except Exception as error:
        return failure("handshake", error)
    with raw:
        try:
            tls = ctx.wrap_socket(raw, server_hostname=name)
        except Exception as error:
            return failure("handshake", error)
        with tls:
            connection = {"protocol": tls.version()}
            try:
                tls.sendall(request["http"].encode("latin-1"))
                chunks = []
                while True:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
            except Exception as error:
                return failure("after-secureConnect", error, connection)
    return dict(connection, ok=True, phase="response", raw=b"".join(chunks).decode("latin-1"))


def main():
    requests = json.load(sys.stdin)
    with concurrent.futures.ThreadPoolExecutor(max_workers=int(sys.argv[1]) if len(sys.argv) > 1 else 4) as pool:
        outcomes = list(pool.map(probe, requests))
    json.dump(outcomes, sys.stdout)


if __name__ == "__main__":
    main()
