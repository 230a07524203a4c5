"""Exit 0 when the imitation on 127.0.0.1:8765 is answering a request to PATH right now.

    python in-flight.py PATH      (run inside the container, by scripts/image-check.sh)

Reads the imitation's request log (GET /_imitation/requests): a request whose duration is
not filled in yet is still in flight.
"""

import json
import sys
import urllib.request

with urllib.request.urlopen("http://127.0.0.1:8765/_imitation/requests", timeout=5) as answer:
    rows = json.load(answer)
sys.exit(0 if any(r["path"] == sys.argv[1] and r["duration"] is None for r in rows) else 1)
