"""The requests PyHashlookup's `Hashlookup` class sends, against a pksn node.

PyHashlookup (https://github.com/hashlookup/PyHashlookup, pyhashlookup/api.py) is GPL-3.0, so it
is not copied here; this script makes its calls the same way: a `requests` session with its own
User-Agent, paths built with `urljoin(root_url, str(Path('lookup', 'md5', h)))`, bulk bodies sent
as `json={'hashes': [...]}`, and every answer read with `r.json()` whatever its status. A licence
key, when given, goes in the session's headers, as a PyHashlookup user sets it
(`h.session.headers['Authorization'] = 'Bearer KEY'`).

Usage: hashlookup_client.py ROOT_URL KEY|- CALL ARG...; prints one JSON line per call:
{"status": N, "json": ...}. Calls: md5 H, sha1 H, sha256 H, bulk_md5 H,H, bulk_sha1 H,H, info -.
"""
import json
import sys
from pathlib import Path
from urllib.parse import urljoin

import requests

root_url, key, *calls = sys.argv[1:]
if not root_url.endswith("/"):
    root_url += "/"
session = requests.session()
session.headers["user-agent"] = "PyHashlookup / 1.2.3"
if key != "-":
    session.headers["Authorization"] = f"Bearer {key}"

for call, arg in zip(calls[0::2], calls[1::2]):
    if call in ("md5", "sha1", "sha256"):
        r = session.get(urljoin(root_url, str(Path("lookup", call, arg))))
    elif call.startswith("bulk_"):
        r = session.post(urljoin(root_url, str(Path("bulk", call[5:]))), json={"hashes": arg.split(",")})
    elif call == "info":
        r = session.get(urljoin(root_url, "info"))
    else:
        raise SystemExit(f"unknown call {call}")
    print(json.dumps({"status": r.status_code, "json": r.json()}))
