"""Drives vt-py (tests/testdata/vendor/vt-py) against a pksn node: `vt_client.py HOST APIKEY PATH...`.

For each path prints one JSON line: {"object": obj.to_dict()} or {"error": [code, message]}
as vt-py raised it. Uses only the client's public API, as an integration would.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "testdata", "vendor", "vt-py"))
import vt  # noqa: E402

host, apikey, *paths = sys.argv[1:]
with vt.Client(apikey, host=host) as client:
    for path in paths:
        if path.startswith("url:"):
            path = "/urls/" + vt.url_id(path[4:])
        try:
            obj = client.get_object(path)
            # vt-py turns "*_date" attributes into datetimes: show what it made of one.
            when = getattr(obj, "last_analysis_date", None)
            print(json.dumps({
                "object": obj.to_dict(),
                "type": obj.type,
                "id": obj.id,
                "last_analysis_date": None if when is None else when.isoformat(),
            }))
        except vt.APIError as err:
            print(json.dumps({"error": [err.code, err.message]}))
