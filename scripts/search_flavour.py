"""Print the flavour of the search cluster at URL: "opensearch" or "elasticsearch".
Exits 1 when nothing answers like a cluster (services.sh then leaves search on PostgreSQL)."""

import sys

import urllib3

try:
    version = urllib3.request("GET", sys.argv[1], timeout=5.0, retries=False).json()["version"]
except Exception:
    sys.exit(1)
print("opensearch" if version.get("distribution") == "opensearch" else "elasticsearch")
