"""The script shipped in every dossier: re-checks it with Python's standard library alone.

It restates the recipes of :mod:`monitor.store.evidence` (file names, evidence digest, chain)
and the manifest written by :func:`monitor.evidence.dossier.build.write_manifest`, so that
someone without prefecture-monitor can check a dossier; tests/system/test_dossier.py and
tests/system/test_dossier_forgery.py run it on real dossiers so that the two can never drift apart.

The manifest is the dossier's anchor: the script prints its SHA-256 first, the value
``monitor evidence`` printed when it made the dossier (the one a covering letter quotes), then
checks everything else against it. A forger who rewrites the manifest to match a forged
folder changes that value; one who does not is named by the checks.
"""

from __future__ import annotations

VERIFY_SCRIPT = r'''#!/usr/bin/env python3
"""Check this evidence dossier: python3 verify_dossier.py [SHA256]  (in the dossier's folder).

It first prints the SHA-256 of manifest.json: compare it with the value `monitor evidence`
printed when the dossier was made (the one the covering letter quotes); given as SHA256, it is
compared for you. Then, against manifest.json:

1. it lists index.html, outcomes.json, verify_dossier.py and the "essentials" it names;
2. every path it lists is relative, stays in this folder, is no symbolic link and its file
   has the SHA-256 written there; every file of the folder (manifest.json aside) is listed;
3. every evidence file's content has the SHA-256 its name states;
4. outcomes.json holds the attempts the manifest counts, with its ids in its order, and the
   last attempt's chain is the manifest's "last_chain";
5. every evidence file an attempt names is in the folder or listed as not included
   ("evidence_not_included": pruned, missing or altered when the dossier was made);
6. every attempt's "sha256" is the SHA-256 of the lines "<digest>  <path>\n" of its
   evidence files, sorted by path (what `sha256sum` prints);
7. every attempt's "chain" is SHA-256(previous chain, 64 hex characters, followed by the
   attempt's canonical JSON), from manifest.json's "previous_chain" (64 zeros when null);
   an attempt with a "detail_code" has it and its "detail_args" in that JSON too, an
   attempt with a "node" has it, and one with an "assisted_by" has it.

One line per problem; exit status 0 when there is none, 1 otherwise.
"""
import hashlib
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

MANIFEST = "manifest.json"
REQUIRED = ("index.html", "outcomes.json", "verify_dossier.py")
FIELDS = ("target", "prefecture", "started_at", "finished_at", "engine", "status", "reason",
          "detail", "http_status", "url", "final_url", "slot_count", "earliest_slot", "sha256")
TIMES = ("started_at", "finished_at", "earliest_slot")


DIGESTS = {}


def sha256_file(path):
    """The file's SHA-256, or None when it cannot be read."""
    if str(path) not in DIGESTS:
        try:
            DIGESTS[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            DIGESTS[str(path)] = None
    return DIGESTS[str(path)]


def canonical(row):
    fields = {name: row[name] for name in FIELDS}
    if row.get("detail_code") is not None:
        fields["detail_code"] = row["detail_code"]
        fields["detail_args"] = row["detail_args"]
    if row.get("node") is not None:
        fields["node"] = row["node"]
    if row.get("assisted_by") is not None:
        fields["assisted_by"] = row["assisted_by"]
    for name in TIMES:
        if fields[name] is not None:
            moment = datetime.fromisoformat(fields[name]).astimezone(timezone.utc)
            fields[name] = moment.isoformat(timespec="microseconds")
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def path_fault(here, path):
    """Why a listed path cannot be trusted, or None: absolute, climbing out, a link."""
    if not isinstance(path, str) or not path:
        return "is not a path"
    if path.startswith("/") or "\\" in path or ":" in path.split("/")[0]:
        return "is absolute"
    parts = path.split("/")
    if ".." in parts:
        return "climbs out of the folder"
    if "." in parts or "" in parts:
        return "is not a plain relative path"
    for end in range(1, len(parts) + 1):
        if os.path.islink(os.path.join(here, *parts[:end])):
            return "is a symbolic link" if end == len(parts) else "goes through a symbolic link"
    return None


def folder_files(here):
    """Every file and link under the folder, relative, without following links."""
    found = []
    for top, folders, files in os.walk(here):
        for name in folders + files:
            full = os.path.join(top, name)
            if name in files or os.path.islink(full):
                found.append(os.path.relpath(full, here).replace(os.sep, "/"))
    return sorted(found)


def read_manifest(raw):
    """The manifest as a dict with the expected shapes; ValueError naming what is wrong."""
    manifest = json.loads(raw.decode("utf-8"))
    shapes = {"files": list, "attempts": int, "outcome_ids": list, "last_chain": str,
              "evidence_not_included": list}
    if not isinstance(manifest, dict):
        raise ValueError("it is not a JSON object")
    for key, kind in shapes.items():
        if not isinstance(manifest.get(key), kind):
            raise ValueError("%r is missing or not a %s" % (key, kind.__name__))
    for entry in manifest["files"] + manifest["evidence_not_included"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise ValueError("an entry of 'files' or 'evidence_not_included' has no path")
    return manifest


def check_files(here, manifest, problems):
    """Required, listed and unlisted files; returns the set of listed paths."""
    listed = set()
    for entry in manifest["files"]:
        path = entry["path"]
        fault = path_fault(here, path)
        if fault:
            problems.append("manifest.json lists a path that %s: %s" % (fault, path))
            continue
        if path in listed:
            problems.append("manifest.json lists a file twice: " + path)
        listed.add(path)
        full = Path(here, *path.split("/"))
        if not full.is_file():
            problems.append("file listed in manifest.json is missing: " + path)
        elif sha256_file(full) is None:
            problems.append("file listed in manifest.json cannot be read: " + path)
        elif sha256_file(full) != entry.get("sha256"):
            problems.append("file changed since the dossier was made: " + path)
    essentials = manifest.get("essentials") or []
    for path in sorted(set(REQUIRED) | {p for p in essentials if isinstance(p, str)}):
        if path not in listed:
            problems.append("required file not listed in manifest.json: " + path)
    for path in folder_files(here):
        if path == MANIFEST:
            continue
        if os.path.islink(os.path.join(here, path)):
            problems.append("symbolic link in the folder: " + path)
        elif path not in listed:
            problems.append("file not listed in manifest.json: " + path)
        if path.startswith("evidence/") and not os.path.islink(os.path.join(here, path)):
            digest = sha256_file(Path(here, path))
            if digest is not None and digest != path.rsplit("/", 1)[-1].split(".")[0]:
                problems.append("evidence file does not match its name: " + path)
    return listed


def check_attempts(manifest, rows, problems):
    """outcomes.json against the manifest's count, ids and last chain."""
    ids = [row.get("id") if isinstance(row, dict) else None for row in rows]
    expected = manifest["outcome_ids"]
    if len(rows) != manifest["attempts"]:
        problems.append("outcomes.json holds %d attempt(s), manifest.json says %d"
                        % (len(rows), manifest["attempts"]))
    if len(expected) != manifest["attempts"]:
        problems.append("manifest.json counts %d attempt(s) but lists %d id(s)"
                        % (manifest["attempts"], len(expected)))
    if ids != expected:
        gone = [i for i in expected if i not in ids]
        extra = [i for i in ids if i not in expected]
        said = ["missing %s" % ", ".join(map(str, gone))] if gone else []
        said += ["not in the manifest %s" % ", ".join(map(str, extra))] if extra else []
        problems.append("outcomes.json's attempt ids differ from manifest.json's: "
                        + ("; ".join(said) or "another order"))
    last = rows[-1].get("chain") if rows and isinstance(rows[-1], dict) else None
    if last != manifest["last_chain"]:
        problems.append("the last attempt's chain is not manifest.json's last_chain %s"
                        % manifest["last_chain"])


def check_rows(manifest, rows, listed, problems):
    """Each attempt's evidence files, evidence digest and chain link; returns the last chain."""
    absent = {entry["path"] for entry in manifest["evidence_not_included"]}
    previous = manifest.get("previous_chain") or "0" * 64
    for row in rows:
        try:
            for path in row["evidence"]:
                if "evidence/" + path not in listed and path not in absent:
                    problems.append("attempt %s: evidence file %s is neither in the dossier "
                                    "nor listed as not included" % (row["id"], path))
            lines = sorted((p, p.rsplit("/", 1)[-1].split(".")[0] + "  " + p + "\n")
                           for p in row["evidence"])
            digest = (hashlib.sha256("".join(line for _, line in lines).encode()).hexdigest()
                      if lines else None)
            if digest != row["sha256"]:
                problems.append("attempt %s: evidence digest differs" % row["id"])
            chain = hashlib.sha256(previous.encode("ascii") + canonical(row).encode()).hexdigest()
            if chain != row["chain"]:
                problems.append("attempt %s: chain does not recompute" % row["id"])
            previous = row["chain"]
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            name = row.get("id") if isinstance(row, dict) else row
            problems.append("attempt %s: malformed in outcomes.json (%r)" % (name, error))
    return previous


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        raw = Path(here, MANIFEST).read_bytes()
    except OSError as error:
        print("PROBLEM: manifest.json cannot be read: %s" % (error.strerror or error))
        return 1
    digest = hashlib.sha256(raw).hexdigest()
    print("manifest.json SHA-256: " + digest)
    problems = []
    if len(argv) > 1 and argv[1].strip().lower() != digest:
        problems.append("manifest.json is not the expected one: SHA-256 %s, expected %s"
                        % (digest, argv[1].strip()))
    previous = None
    try:
        manifest = read_manifest(raw)
    except ValueError as error:
        problems.append("manifest.json is not a dossier manifest: %s" % error)
        manifest = None
    if manifest is not None:
        listed = check_files(here, manifest, problems)
        try:
            rows = json.loads(Path(here, "outcomes.json").read_text(encoding="utf-8"))
            if not isinstance(rows, list):
                raise ValueError("not a JSON list")
        except (OSError, ValueError) as error:
            problems.append("outcomes.json cannot be read: %s" % error)
        else:
            check_attempts(manifest, rows, problems)
            previous = check_rows(manifest, rows, listed, problems)
    for problem in problems:
        print("PROBLEM:", problem)
    print("%d problem(s); last chain %s" % (len(problems), previous))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
'''
