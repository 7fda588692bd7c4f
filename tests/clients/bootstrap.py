"""clients.md §1.1 bootstrap: setup with admin@example.com, then an API key in Administrators.
Prints "<session id> <api key>"."""
import json
import sys
import urllib.request

base = sys.argv[1]


def call(method, path, body=None, session=None):
    headers = {"Content-Type": "application/json"}
    if session:
        headers["X-Metabase-Session"] = session
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


token = call("GET", "/api/session/properties")["setup-token"]
session = call("POST", "/api/setup", {
    "token": token,
    "user": {"email": "admin@example.com", "password": "blue7-ferret-orbit",
             "first_name": "Ada", "last_name": "Admin"},
    "prefs": {"site_name": "ferrobase clients"},
})["id"]
groups = call("GET", "/api/permissions/group", session=session)
admins = next(g["id"] for g in groups if g["name"] == "Administrators")
key = call("POST", "/api/api-key", {"name": "clients", "group_id": admins}, session=session)
print(session, key["unmasked_key"])
