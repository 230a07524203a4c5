"""Open data: where each procedure stands now, one row per configured target (CSV and JSON).

The daily files count attempts; this one says what the index page says: the current status
and reason and since when, the latest attempt and the last slot seen. No status outlives its
evidence: a target whose site gave no outcome for two of its intervals is ``not_observed``
(``observed`` false), with ``not_observed_since`` its last site outcome and no reason,
never its last status as if current. As in the daily files: no URL, detail or evidence.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor.publish.figures import NOT_OBSERVED, NOT_PROBED
from monitor.publish.opendata import Field, csv_rows

if TYPE_CHECKING:
    from monitor.publish.pages import TargetPage

# fmt: off
CURRENT_FIELDS = (
    Field("target", "string", "identifiant de la démarche", "procedure id"),
    Field("prefecture", "string", "code du département ou de la préfecture",
          "département or prefecture code"),
    Field("prefecture_name", "string", "nom de la préfecture", "prefecture name"),
    Field("procedure", "string", "nom de la démarche", "procedure name"),
    Field("status", "string",
          "état actuel : available, unavailable, anomaly ; not_observed quand le site n'a "
          "donné aucune réponse depuis deux intervalles ; none si jamais sondée",
          "current status: available, unavailable, anomaly; not_observed when the site gave "
          "no outcome for two intervals; none when never probed"),
    Field("reason", "string", "motif de l'état actuel (vide s'il n'est pas observé)",
          "reason of the current status (empty when not observed)"),
    Field("since", "datetime", "depuis quand cet état (not_observed : depuis la dernière "
          "réponse du site)", "since when this status (not_observed: since the site's last "
          "outcome)"),
    Field("observed", "boolean", "l'état est-il actuel", "whether the status is current"),
    Field("not_observed_since", "datetime", "dernière réponse du site, quand l'état n'est "
          "plus observé", "the site's last outcome, when the status is no longer observed"),
    Field("last_attempt", "datetime", "dernière tentative (y compris les erreurs du moniteur)",
          "latest attempt (monitor errors included)"),
    Field("last_slot_seen", "datetime", "dernier créneau vu", "last slot seen"),
)
# fmt: on
CURRENT_FIELD_NAMES = tuple(field.name for field in CURRENT_FIELDS)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


def current_rows(pages: Sequence[TargetPage]) -> list[dict[str, Any]]:
    """One row per page, in config order, with :data:`CURRENT_FIELD_NAMES`."""
    rows = []
    for page in pages:
        state, status = page.state, page.status
        current = status not in (NOT_OBSERVED, NOT_PROBED)
        identity = page.identity
        rows.append(
            {
                "target": identity.target,
                "prefecture": identity.prefecture,
                "prefecture_name": identity.prefecture_name,
                "procedure": identity.procedure,
                "status": status,
                "reason": str(state.reason) if current and state and state.reason else None,
                "since": _iso(page.since),
                "observed": current,
                "not_observed_since": _iso(page.since) if status == NOT_OBSERVED else None,
                "last_attempt": _iso(state.last_probe_at if state else None),
                "last_slot_seen": _iso(state.last_available_at if state else None),
            }
        )
    return rows


def current_json(rows: Sequence[dict[str, Any]], *, licence: str | None, generated_at: str) -> str:
    """The rows as one JSON document, with the licence and the fields' meanings."""
    document = {
        "licence": licence,
        "generated_at": generated_at,
        "fields": [
            {"name": f.name, "type": f.type, "description": f.en, "description_fr": f.fr}
            for f in CURRENT_FIELDS
        ],
        "rows": list(rows),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


def current_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as CSV, as the daily files are written."""
    return csv_rows(rows, CURRENT_FIELD_NAMES)
