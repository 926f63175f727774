#!/usr/bin/python3
"""Operating checks against the real idrecon-server binary.

Proves, against live responses:
  * every status docs/api.md names (200 400 401 404 405 413 431 503) has a body and
    headers that match openapi.yaml (schemas validated with JSON Schema 2020-12);
  * GET /metrics passes `promtool check metrics` and counts what was served;
  * bearer auth: 401 without/with a wrong token, /health stays open; the
    start-up log says whether auth is on; an empty IDRECON_AUTH_TOKEN= is an
    error (exit 2), never "auth off";
  * the access log has one logfmt line per request and no email or phone number
    appears unmasked in any log.

Usage: ops_test.py --server PATH --openapi PATH   (exit 0 = pass)
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import jsonschema
import yaml

TOKEN = "s3cret-token-for-the-ops-test"
EMAILS = ["lorraine@hillvalley.edu", "mcfly@hillvalley.edu", "george@hillvalley.edu"]
PHONES = ["123456", "919191"]
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)


class Server:
    def __init__(self, binary, workdir, args, env_extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("IDRECON_")}
        env.update(env_extra or {})
        self.stderr_path = os.path.join(workdir, "stderr.log")
        self.proc = subprocess.Popen([binary, "--port", "0", "--threads", "2"] + args, cwd=workdir, env=env,
                                     stdout=subprocess.PIPE, stderr=open(self.stderr_path, "wb"))
        line = self.proc.stdout.readline().decode()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not m:
            raise RuntimeError("no ready line: %r (stderr: %s)" % (line, open(self.stderr_path).read()))
        self.port = int(m.group(1))

    def request(self, method, path, body=None, headers=None, raw_body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        data = raw_body if raw_body is not None else (None if body is None else json.dumps(body).encode())
        conn.request(method, path, body=data, headers=headers or {})
        resp = conn.getresponse()
        payload = resp.read()
        result = (resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload)
        conn.close()
        return result

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def inline_refs(node, root):
    """Replaces every {'$ref': '#/...'} with the referenced node (no cycles in our document)."""
    if isinstance(node, dict):
        if "$ref" in node and len(node) == 1:
            target = root
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return inline_refs(target, root)
        return {k: inline_refs(v, root) for k, v in node.items()}
    if isinstance(node, list):
        return [inline_refs(v, root) for v in node]
    return node


class Contract:
    def __init__(self, path):
        with open(path) as f:
            self.doc = yaml.safe_load(f)
        self.error_schema = inline_refs(self.doc["components"]["schemas"]["Error"], self.doc)

    def response_spec(self, template, method, status):
        item = self.doc["paths"][template]
        # A method the path does not have (405) is documented on the path's
        # own operation(s).
        op = item.get(method.lower()) or next(iter(v for k, v in item.items() if isinstance(v, dict)))
        spec = op["responses"].get(str(status))
        return None if spec is None else inline_refs(spec, self.doc)

    def validate(self, template, method, status, headers, body, label):
        if template is None:  # a path the API does not have: a plain JSON error
            schema, spec = self.error_schema, None
        else:
            spec = self.response_spec(template, method, status)
            check(spec is not None, "%s: status %d is documented for %s %s" % (label, status, method, template))
            if spec is None:
                return
            content = spec.get("content", {})
            ctype = headers.get("content-type", "")
            key = "application/json" if ctype.startswith("application/json") else "text/plain"
            check(key in content, "%s: content type %r is documented" % (label, ctype))
            schema = content.get(key, {}).get("schema")
            for name, h in spec.get("headers", {}).items():
                if h.get("required") or name in ("Allow", "WWW-Authenticate"):
                    check(name.lower() in headers, "%s: header %s present" % (label, name))
        if headers.get("content-type", "").startswith("application/json"):
            try:
                value = json.loads(body)
            except ValueError:
                check(False, "%s: body is JSON: %r" % (label, body[:200]))
                return
            errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(value), key=str)
            check(not errors, "%s: body %s matches the schema: %s" % (label, body[:200], [e.message for e in errors]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--openapi", required=True)
    args = ap.parse_args()
    contract = Contract(args.openapi)
    work = tempfile.mkdtemp(prefix="idrecon-ops-")
    try:
        run(args.server, contract, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        return 1
    print("ops_test: all checks passed")
    return 0


def run(binary, contract, work):
    auth = {"Authorization": "Bearer " + TOKEN}
    token_file = os.path.join(work, "token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(token_file, 0o600)
    access_log = os.path.join(work, "access.log")
    srv = Server(binary, work, ["--data-dir", os.path.join(work, "data"), "--auth-token-file", token_file,
                                "--access-log", access_log])
    try:
        def call(method, path, template, body=None, headers=None, raw_body=None, expect=None):
            h = dict(auth)
            h.update(headers or {})
            status, hdrs, payload = srv.request(method, path, body, h, raw_body)
            label = "%s %s -> %d" % (method, path, status)
            if expect is not None:
                check(status == expect, "%s: expected %d" % (label, expect))
            contract.validate(template, method, status, hdrs, payload, label)
            return status, hdrs, payload

        # 200s
        call("POST", "/identify", "/identify", {"email": EMAILS[0], "phoneNumber": PHONES[0]}, expect=200)
        _, _, body = call("POST", "/identify", "/identify", {"email": EMAILS[1], "phoneNumber": int(PHONES[0])},
                          expect=200)
        check(json.loads(body)["contact"]["secondaryContactIds"] == [2], "secondary created")
        call("POST", "/identify", "/identify", {"email": EMAILS[2], "phoneNumber": PHONES[1]}, expect=200)
        call("GET", "/contacts/2", "/contacts/{id}", expect=200)
        call("GET", "/health", "/health", expect=200)
        # /lookup and /guard (docs/api.md §7, §8)
        _, _, body = call("POST", "/lookup", "/lookup", {"email": EMAILS[0], "phoneNumber": PHONES[1]}, expect=200)
        check(json.loads(body)["identify"]["merges"] == [1, 3], "lookup names the merge it would make")
        call("PUT", "/guard", "/guard", {"phoneNumber": "0000000000"}, expect=200)
        call("GET", "/guard", "/guard", expect=200)
        call("POST", "/identify", "/identify", {"phoneNumber": "0000000000"}, expect=422)
        _, _, body = call("POST", "/identify", "/identify", {"email": EMAILS[0], "phoneNumber": "0000000000"}, expect=200)
        check(json.loads(body).get("guarded") == ["phoneNumber"], "a dropped field is named")
        call("POST", "/lookup", "/lookup", {"email": EMAILS[0], "phoneNumber": "0000000000"}, expect=200)
        call("DELETE", "/guard", "/guard", {"phoneNumber": "0000000000"}, expect=200)
        call("DELETE", "/guard", "/guard", {"phoneNumber": "0000000000"}, expect=404)
        call("PUT", "/guard", "/guard", {"email": "a@x", "phoneNumber": "1"}, expect=400)
        # 400, 404, 405, 413
        call("POST", "/identify", "/identify", raw_body=b'{"email":', expect=400)
        call("POST", "/identify", "/identify", {"email": None, "phoneNumber": None}, expect=400)
        call("POST", "/identify", "/identify", {"phoneNumber": 1.5}, expect=400)
        call("POST", "/identify", "/identify", {"email": "x" * 321}, expect=400)
        call("POST", "/identify", "/identify", raw_body=b'{"email":"\xff"}', expect=400)
        call("GET", "/contacts/999", "/contacts/{id}", expect=404)
        call("GET", "/nope", None, expect=404)
        _, hdrs, _ = call("GET", "/identify", "/identify", expect=405)
        check(hdrs.get("allow") == "POST", "405 Allow: POST")
        call("DELETE", "/contacts/1", "/contacts/{id}", expect=405)
        call("POST", "/identify", "/identify", raw_body=b"x" * 20000, expect=413)
        # 431: a header over 8 KiB
        call("POST", "/identify", "/identify", {"email": EMAILS[0]}, headers={"X-Big": "y" * 9000}, expect=431)
        # 401: no token, wrong token; /health stays open without one
        for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token"}, {"Authorization": "Basic abc"}):
            status, hdrs, payload = srv.request("POST", "/identify", {"email": "intruder@x"}, headers)
            check(status == 401, "no/wrong token -> 401 (got %d)" % status)
            check("bearer" in hdrs.get("www-authenticate", "").lower(), "401 carries WWW-Authenticate")
            contract.validate("/identify", "POST", status, hdrs, payload, "unauthenticated identify")
        status, _, _ = srv.request("GET", "/contacts/1", None, {})
        check(status == 401, "contacts need the token too")
        status, _, _ = srv.request("GET", "/health", None, {})
        check(status == 200, "/health needs no token")
        check(re.search(r'^ts=\S+ level=info msg="auth on: .*token_from=file', open(srv.stderr_path).read(), re.M)
              is not None, "the start-up log says auth is on")
        # /metrics: documented, promtool-valid, and counting
        status, hdrs, payload = call("GET", "/metrics", "/metrics", expect=200)
        text = payload.decode()
        check(hdrs.get("content-type", "").startswith("text/plain; version=0.0.4"), "metrics content type")
        promtool = shutil.which("promtool")
        check(promtool is not None, "promtool is installed (Debian package prometheus)")
        if promtool:
            p = subprocess.run([promtool, "check", "metrics"], input=payload, capture_output=True, timeout=30)
            check(p.returncode == 0, "promtool check metrics: %s %s" % (p.stdout.decode(), p.stderr.decode()))
        m = re.search(r'^idrecon_http_requests_total\{endpoint="identify",status="200"\} (\d+)$', text, re.M)
        check(m is not None and int(m.group(1)) == 4, "4 identify 200s counted")
        check(re.search(r'^idrecon_guard_dropped_total\{field="phoneNumber"\} 3$', text, re.M) is not None,
              "3 requests dropped a guarded phone (identify 200 and 422, lookup)")
        check(re.search(r"^idrecon_contacts 3$", text, re.M) is not None, "contacts gauge")
        check(re.search(r"^idrecon_clusters 2$", text, re.M) is not None, "clusters gauge")
        check(re.search(r"^idrecon_log_failed 0$", text, re.M) is not None, "log healthy")
        m = re.search(r"^idrecon_log_changes_total (\d+)$", text, re.M)
        check(m is not None and int(m.group(1)) == 5, "5 changes committed (3 contacts, a guard, an unguard)")
        check("idrecon_snapshot_age_seconds" in text, "snapshot age exported")
        check('idrecon_log_commit_duration_seconds_bucket{le="+Inf"}' in text, "commit latency histogram")
    finally:
        check(srv.stop() == 0, "SIGTERM exits 0")

    # Access log: a line per request, logfmt, and no personal data anywhere.
    logs = open(access_log).read()
    check(len([l for l in logs.splitlines() if "msg=request" in l]) >= 20, "access log has a line per request")
    check(re.search(r'^ts=\S+ level=info msg=request method=POST path=/identify status=200 bytes=\d+ us=\d+$',
                    logs, re.M) is not None, "access log line format")
    everything = logs + open(srv.stderr_path).read()
    for value in EMAILS + PHONES + ["intruder@x"]:
        check(value not in everything, "logs never show %s" % value)

    # 503: a log that cannot grow refuses changes; /health says why.
    work2 = os.path.join(work, "full")
    os.mkdir(work2)
    srv = Server(binary, work2, ["--data-dir", os.path.join(work2, "data"), "--log-max-mib", "1", "--sync", "nosync",
                                 "--snapshot-every", "off"])
    try:
        status = 200
        for i in range(20000):
            status, hdrs, payload = srv.request("POST", "/identify", {"email": "%d-%s@x" % (i, "p" * 300)})
            if status != 200:
                break
        check(status == 503, "a full log gives 503 (got %d)" % status)
        contract.validate("/identify", "POST", status, hdrs, payload, "full log identify")
        status, hdrs, payload = srv.request("GET", "/health")
        check(status == 503, "health is 503 after the failure")
        check(json.loads(payload) == {"status": "unavailable", "error": "storage error"},
              "unauthenticated /health names no storage detail: %r" % payload)
        contract.validate("/health", "GET", status, hdrs, payload, "health after failure")
        check(re.search(r'^ts=\S+ level=info msg="auth off', open(srv.stderr_path).read(), re.M) is not None,
              "the start-up log says auth is off")
    finally:
        srv.stop()

    # An empty token variable is a mistake, not a way to turn auth off.
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDRECON_")}
    env["IDRECON_AUTH_TOKEN"] = ""
    p = subprocess.run([binary, "--port", "0", "--data-dir", os.path.join(work, "empty-token")], cwd=work, env=env,
                       capture_output=True, timeout=30)
    check(p.returncode == 2, "IDRECON_AUTH_TOKEN= exits 2 (got %d)" % p.returncode)
    check(b"IDRECON_AUTH_TOKEN" in p.stderr and b"is empty" in p.stderr,
          "IDRECON_AUTH_TOKEN= is explained: %r" % p.stderr)
    check(p.stdout == b"", "IDRECON_AUTH_TOKEN= never serves")


if __name__ == "__main__":
    sys.exit(main())
