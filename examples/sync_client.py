"""Keep a faithful local copy of PolicyHub collections: the sync recipe of docs/api.md.

    python examples/sync_client.py --base https://policyhub.example.org --token $KEY \\
        --state sync-state.json codes diagnosis-codes coverage-criteria

The first run copies each collection by a keyset walk, starting from the change-log position the
walk's first page reports; every later run (or `--follow`) applies the changes after the position
it saved. Only the Python standard library is used. The state file holds the position and, per
resource, the rows by key (for a real system: your own database instead).
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

# The field that holds each resource's key: the value change-log entries name.
KEY_FIELDS = {
    "codes": "code",
    "modifiers": "code",
    "places-of-service": "code",
    "diagnosis-codes": "code",
    "payers": "slug",
}
PAGE_SIZE = 500


class Api:
    def __init__(self, base: str, token: str):
        self.base = base.rstrip("/")
        self.token = token

    def get(self, url: str) -> dict | None:
        """The JSON body of `url` (absolute, or a path under the base); None for a 404. Waits out 429s."""
        if url.startswith("/"):
            url = self.base + url
        request = urllib.request.Request(url, headers={"Authorization": f"Token {self.token}"})
        while True:
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return json.load(response)
            except urllib.error.HTTPError as error:
                if error.code == 404:
                    return None
                if error.code == 429:
                    time.sleep(float(error.headers.get("Retry-After", "1")))
                    continue
                raise


def key_of(resource: str, row: dict) -> str:
    return str(row[KEY_FIELDS.get(resource, "id")])


def copy_collection(api: Api, resource: str, page_size: int = PAGE_SIZE) -> tuple[int, dict, list[str]]:
    """Walk the whole collection; returns the position its first page reported, the rows by key
    and the fields a list row holds (a detail may show more; the copy keeps these)."""
    url = f"/api/v1/{resource}/?cursor=&page_size={page_size}"
    position, rows, fields = None, {}, []
    while url:
        page = api.get(url)
        if position is None:
            position = page["change_position"]
        for row in page["results"]:
            rows[key_of(resource, row)] = row
            fields = fields or list(row)
        url = page["next"]
    return position, rows, fields


def first_copy(api: Api, resources: list[str], page_size: int = PAGE_SIZE) -> dict:
    """Remember a position, walk every collection, then apply what changed since that position."""
    state = {"position": None, "copies": {}, "fields": {}}
    for resource in resources:
        position, rows, fields = copy_collection(api, resource, page_size)
        # The smallest first-page position: everything changed after it is applied below.
        state["position"] = position if state["position"] is None else min(state["position"], position)
        state["copies"][resource] = rows
        state["fields"][resource] = fields
    return apply_changes(api, state)


def apply_changes(api: Api, state: dict) -> dict:
    """Follow the changes feed after the saved position; refetch upserted rows, drop removed ones."""
    resources = list(state["copies"])
    query = urllib.parse.urlencode({"after": state["position"], "resource": resources, "page_size": 500}, doseq=True)
    url = f"/api/v1/changes/?{query}"
    while url:
        page = api.get(url)
        for entry in page["results"]:
            copy = state["copies"][entry["resource"]]
            current = api.get(entry["url"]) if entry["action"] == "upserted" else None
            if current is None:  # removed, or gone again since: a later entry says so as well
                copy.pop(entry["key"], None)
            else:
                fields = state["fields"][entry["resource"]] or list(current)
                copy[entry["key"]] = {name: current[name] for name in fields}
            state["position"] = entry["position"]
        if page["next"] is None:
            # Every entry up to the page's position has been applied.
            state["position"] = max(state["position"], page["change_position"])
        url = page["next"]
    return state


def sync(api: Api, resources: list[str], state_file: Path, page_size: int = PAGE_SIZE) -> dict:
    state = json.loads(state_file.read_text()) if state_file.exists() else None
    if state is None or sorted(state["copies"]) != sorted(resources):
        state = first_copy(api, resources, page_size)
    else:
        state = apply_changes(api, state)
    state_file.write_text(json.dumps(state))
    return state


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("resources", nargs="+", help="collections to copy, e.g. codes diagnosis-codes")
    parser.add_argument("--base", required=True, help="PolicyHub's address, e.g. https://policyhub.example.org")
    parser.add_argument("--token", required=True, help="an API token")
    parser.add_argument("--state", type=Path, required=True, help="the JSON file holding the copy and position")
    parser.add_argument("--page-size", type=int, default=PAGE_SIZE, help=f"rows per page (at most {PAGE_SIZE})")
    parser.add_argument("--follow", type=float, metavar="SECONDS", help="keep polling, every SECONDS")
    args = parser.parse_args(argv)
    api = Api(args.base, args.token)
    while True:
        state = sync(api, args.resources, args.state, args.page_size)
        sizes = ", ".join(f"{resource}: {len(rows)}" for resource, rows in state["copies"].items())
        print(f"position {state['position']}; {sizes}", flush=True)
        if not args.follow:
            return 0
        time.sleep(args.follow)


if __name__ == "__main__":
    sys.exit(main())
