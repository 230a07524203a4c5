"""The script shipped in every dossier: re-checks it with Python's standard library alone.

It restates the recipes of :mod:`monitor.store.evidence` (file names, evidence digest, chain) so
that someone without prefecture-monitor can check a dossier; tests/test_dossier.py runs it
on a real dossier so that the two can never drift apart.
"""

from __future__ import annotations

VERIFY_SCRIPT = r'''#!/usr/bin/env python3
"""Check this evidence dossier: python3 verify_dossier.py  (in the dossier's folder).

1. every file listed in manifest.json has the SHA-256 written there;
2. every evidence file's content has the SHA-256 its name states;
3. every attempt's "sha256" is the SHA-256 of the lines "<digest>  <path>\n" of its
   evidence files, sorted by path (what `sha256sum` prints);
4. every attempt's "chain" is SHA-256(previous chain, 64 hex characters, followed by the
   attempt's canonical JSON), from manifest.json's "previous_chain" (64 zeros when null);
   an attempt with a "detail_code" has it and its "detail_args" in that JSON too.
"""
import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

FIELDS = ("target", "prefecture", "started_at", "finished_at", "engine", "status", "reason",
          "detail", "http_status", "url", "final_url", "slot_count", "earliest_slot", "sha256")
TIMES = ("started_at", "finished_at", "earliest_slot")


def sha256_file(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def canonical(row):
    fields = {name: row[name] for name in FIELDS}
    if row.get("detail_code") is not None:
        fields["detail_code"] = row["detail_code"]
        fields["detail_args"] = row["detail_args"]
    for name in TIMES:
        if fields[name] is not None:
            moment = datetime.fromisoformat(fields[name]).astimezone(timezone.utc)
            fields[name] = moment.isoformat(timespec="microseconds")
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def main():
    here = Path(__file__).resolve().parent
    manifest = json.loads((here / "manifest.json").read_text(encoding="utf-8"))
    problems = []
    for entry in manifest["files"]:
        if sha256_file(here / entry["path"]) != entry["sha256"]:
            problems.append("file changed since the dossier was made: " + entry["path"])
    for path in sorted((here / "evidence").rglob("*.*")):
        if sha256_file(path) != path.name.split(".")[0]:
            problems.append("evidence file does not match its name: " + str(path))
    previous = manifest["previous_chain"] or "0" * 64
    for row in json.loads((here / "outcomes.json").read_text(encoding="utf-8")):
        lines = sorted((p, p.rsplit("/", 1)[-1].split(".")[0] + "  " + p + "\n")
                       for p in row["evidence"])
        digest = (hashlib.sha256("".join(l for _, l in lines).encode()).hexdigest()
                  if lines else None)
        if digest != row["sha256"]:
            problems.append("attempt %s: evidence digest differs" % row["id"])
        chain = hashlib.sha256(previous.encode("ascii") + canonical(row).encode()).hexdigest()
        if chain != row["chain"]:
            problems.append("attempt %s: chain does not recompute" % row["id"])
        previous = row["chain"]
    for problem in problems:
        print("PROBLEM:", problem)
    print("%d problem(s); last chain %s" % (len(problems), previous))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
'''
