"""Container health check: GET http://127.0.0.1:$PORT$HEALTHCHECK_PATH, exit 0 on 2xx."""

import os
import sys
import urllib.error
import urllib.request

url = "http://127.0.0.1:{}{}".format(
    os.environ.get("PORT", "4005"), os.environ.get("HEALTHCHECK_PATH", "/healthz")
)
try:
    with urllib.request.urlopen(url, timeout=3) as response:
        sys.exit(0 if 200 <= response.status < 300 else 1)
except urllib.error.HTTPError as exc:
    print(f"{url}: HTTP {exc.code}", file=sys.stderr)
except OSError as exc:
    print(f"{url}: {exc}", file=sys.stderr)
sys.exit(1)
