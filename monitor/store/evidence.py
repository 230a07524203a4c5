"""Evidence files and the hash chain: what makes the record checkable by a third party.

Evidence files are content-addressed: a page's HTML and screenshot are stored under their
own SHA-256, ``<evidence_dir>/<first two hex digits>/<sha256>.html`` (or ``.png``), so a
file's name states its digest and identical pages are stored once. Files are written to a
temporary file in the same directory, fsynced, then renamed over the final name: a reader
never sees a half-written file.

Each outcome row records:

* ``evidence``: the relative paths of its files (``/``-separated, relative to evidence_dir);
* ``sha256``: the digest of the evidence as a whole, which is the SHA-256 of the text that
  ``sha256sum`` prints for those files, sorted by path: one line per file,
  ``"<hex digest>  <relative path>\\n"`` (two spaces), UTF-8; ``None`` without evidence;
* ``chain``: see :func:`chain_hash`.

To check a dossier by hand: ``cd evidence_dir && sha256sum <paths>`` must print each
file's own name as its digest, and ``sha256sum <paths> | LC_ALL=C sort -k2 | sha256sum``
gives the row's ``sha256``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from monitor.details import to_json
from monitor.domain import Outcome

#: The ``previous chain`` of a target's first outcome.
GENESIS = "0" * 64

_CHUNK = 1 << 20


@dataclass(frozen=True)
class EvidenceRecord:
    """What an outcome row stores about its evidence files."""

    paths: tuple[str, ...]  #: relative to evidence_dir, sorted
    sha256: str | None  #: digest of the whole evidence, None when there is none


def write_evidence(
    evidence_dir: Path, *, html: str | None, screenshot: bytes | None
) -> EvidenceRecord:
    """Store a page's HTML (UTF-8) and PNG screenshot content-addressed under evidence_dir.

    An empty HTML string is evidence too (an empty page) and is written; ``None`` is not.
    Files already present are left as they are: same name, same content.
    """
    files: list[tuple[bytes, str]] = []
    if html is not None:
        files.append((html.encode("utf-8"), "html"))
    if screenshot is not None:
        files.append((screenshot, "png"))
    paths = []
    for content, extension in files:
        digest = hashlib.sha256(content).hexdigest()
        relpath = f"{digest[:2]}/{digest}.{extension}"
        _write_once(evidence_dir / relpath, content)
        paths.append(relpath)
    return EvidenceRecord(paths=tuple(sorted(paths)), sha256=evidence_digest(paths))


def _write_once(path: Path, content: bytes) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        # The pages are public; the report and a web server may need to read them.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform (Windows).
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def evidence_digest(paths: Iterable[str]) -> str | None:
    """The ``sha256`` of an outcome's evidence, computed from its content-addressed paths.

    Pure: a path's file name is its content's digest. None for no paths.
    """
    lines = sorted((path, f"{_digest_in_name(path)}  {path}\n") for path in paths)
    if not lines:
        return None
    return hashlib.sha256("".join(line for _, line in lines).encode("utf-8")).hexdigest()


def _digest_in_name(relpath: str) -> str:
    return PurePosixPath(relpath).name.split(".", 1)[0]


def file_digest(path: Path) -> str:
    """SHA-256 (hex) of a file's content, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(evidence_dir: Path, relpath: str) -> bool:
    """True when the file exists and its content's digest is the one in its name.

    A path that is absolute or climbs out of evidence_dir is never valid.
    """
    parts = PurePosixPath(relpath)
    if parts.is_absolute() or ".." in parts.parts:
        return False
    path = evidence_dir.joinpath(*parts.parts)
    try:
        return file_digest(path) == _digest_in_name(relpath)
    except OSError:
        return False


def _timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} refused: it cannot be chained")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_fields(outcome: Outcome) -> bytes:
    """The canonical bytes of an outcome that the chain protects.

    A JSON object with exactly these keys: target, prefecture, started_at, finished_at,
    engine, status, reason, detail, http_status, url, final_url, slot_count, earliest_slot,
    sha256. Strings as they are stored; numbers as JSON integers; absent values as ``null``;
    timestamps as UTC ISO 8601 with microseconds and offset, e.g.
    ``"2025-03-01T08:00:00.000000+00:00"``. Serialised with keys sorted, no whitespace
    (separators ``,`` and ``:``), non-ASCII characters kept as such and encoded as UTF-8:
    Python's ``json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``.
    Not included: ``id`` (a database detail), ``duration_ms`` (derived from the two
    timestamps) and ``evidence`` (covered by ``sha256``, which digests the paths and files).

    An outcome with a structured detail (every row since migration 0002) also has the keys
    ``detail_code`` (a string) and ``detail_args`` (a JSON object, serialised the same way),
    so that the words a reader is shown cannot be changed either; older rows have neither
    key and hash exactly as they always did. Likewise an outcome made by a daemon node
    (every daemon row since migration 0004) has the key ``node`` (a string); rows without
    a node (``monitor check``, older rows) have no such key. And an outcome recorded in
    an assisted session (since migration 0005) has the key ``assisted_by`` (the operator's
    name); every other row has no such key and hashes as before.
    """
    fields: dict[str, object] = {
        "target": outcome.target,
        "prefecture": outcome.prefecture,
        "started_at": _timestamp(outcome.started_at),
        "finished_at": _timestamp(outcome.finished_at),
        "engine": str(outcome.engine),
        "status": str(outcome.status),
        "reason": str(outcome.reason),
        "detail": outcome.detail,
        "http_status": outcome.http_status,
        "url": outcome.url,
        "final_url": outcome.final_url,
        "slot_count": outcome.slot_count,
        "earliest_slot": _timestamp(outcome.earliest_slot),
        "sha256": outcome.sha256,
    }
    if outcome.structured is not None:
        structured = to_json(outcome.structured)
        fields["detail_code"] = structured["code"]
        fields["detail_args"] = structured["args"]
    if outcome.node is not None:
        fields["node"] = outcome.node
    if outcome.assisted_by is not None:
        fields["assisted_by"] = outcome.assisted_by
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def chain_hash(previous_chain: str | None, outcome: Outcome) -> str:
    """The ``chain`` of an outcome: links it to the previous outcome of the same target.

    ``chain = hex(SHA-256(ascii(previous) || canonical_fields(outcome)))`` where
    ``previous`` is the ``chain`` of the target's previous outcome (in insertion order,
    i.e. by ``id``) as 64 lowercase hex characters, or 64 ``"0"`` characters for the
    target's first outcome, and ``canonical_fields`` is the JSON described there. With
    the database's ``target_states.chain_head`` (the chain of the latest row) this detects
    an edited row (its chain no longer matches), a deleted row (the next one's link
    breaks) and a truncated tail (the head no longer matches the last row).

    Recomputing one link in a shell, given a row's canonical JSON in ``row.json`` (no
    trailing newline)::

        { printf %s "$PREVIOUS_CHAIN"; cat row.json; } | sha256sum
    """
    previous = previous_chain if previous_chain is not None else GENESIS
    return hashlib.sha256(previous.encode("ascii") + canonical_fields(outcome)).hexdigest()
