#!/usr/bin/env python3
"""A second, independent load client for `aos node` (issue 16 asks for the node's CPU per message
with a Python client beside the project's Rust one). Standard library only.

    load_client.py URL ITEMS_FILE THREADS

ITEMS_FILE holds signed ANS-104 items, each as `<process id> <base64url item>` on one line (the
load bench writes it). Each thread keeps one HTTP/1.1 connection, posts an item to `/mu`, reads its
result from `/cu/result/{id}?process-id=`, and goes on. Prints `messages seconds` on stdout.
"""

import base64
import http.client
import json
import sys
import threading
import time
import urllib.parse


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def worker(host, port, jobs, failures):
    conn = http.client.HTTPConnection(host, port, timeout=60)
    for process, item in jobs:
        conn.request("POST", "/mu", body=item, headers={"Content-Type": "application/octet-stream"})
        answer = conn.getresponse()
        body = answer.read()
        if answer.status != 200 and answer.status != 202:
            failures.append(f"POST /mu {answer.status} {body[:200]!r}")
            return
        message = json.loads(body)["id"]
        conn.request("GET", f"/cu/result/{message}?process-id={process}")
        result = conn.getresponse()
        result.read()
        if result.status != 200:
            failures.append(f"GET result {result.status}")
            return


def main():
    url, items_file, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    parsed = urllib.parse.urlparse(url)
    items = []
    with open(items_file) as f:
        for line in f:
            process, item = line.split()
            items.append((process, b64url_decode(item)))
    shares = [items[i::threads] for i in range(threads)]
    failures = []
    started = time.monotonic()
    pool = [
        threading.Thread(target=worker, args=(parsed.hostname, parsed.port, share, failures))
        for share in shares
    ]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - started
    if failures:
        print("\n".join(failures[:5]), file=sys.stderr)
        sys.exit(1)
    print(len(items), f"{elapsed:.3f}")


if __name__ == "__main__":
    main()
