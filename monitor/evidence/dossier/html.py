"""The dossier's ``index.html``: a self-contained, printable report (A4), French or English.

Everything that came from a page or the database goes through ``html.escape``; the file
loads nothing from outside the dossier (styles inline, chart as inline SVG, images from
``evidence/``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from monitor import __version__
from monitor.alerts.phrasebook import REASON_LABELS, STATUS_LABELS
from monitor.details import render_outcome
from monitor.domain import Status
from monitor.evidence.dossier.chart import daily_counts, timeline_svg
from monitor.evidence.dossier.model import Attempt, Dossier
from monitor.evidence.dossier.words import STYLE, WORDS
from monitor.reports.stats import BUCKETS, SITE_STATUSES, humanize_duration, percent
from monitor.store.evidence import GENESIS

#: The report runs no script and loads nothing but its own screenshots, whatever a page said.
CSP = "default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'; base-uri 'none'"


def render(dossier: Dossier) -> str:
    """The whole report as one HTML document."""
    w = WORDS[dossier.language]
    lang = dossier.language
    heading = f"{w['title']} – {dossier.title}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f"<title>{escape(heading)}</title><style>{STYLE}</style></head><body>",
        f"<header><h1>{escape(heading)}</h1>",
        f'<p class="sub">{_identity(dossier)}</p></header>',
        _summary(dossier),
        _chart(dossier),
        _attempts(dossier),
        _how_to_verify(dossier),
        f"<footer>{escape(w['generated'])} {_local(dossier, dossier.generated_at)} "
        f"({_utc(dossier.generated_at)}) – prefecture-monitor {escape(__version__)}</footer>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _local(dossier: Dossier, moment: datetime | None) -> str:
    if moment is None:
        return "–"
    local = moment.astimezone(dossier.tz)
    pattern = "%d/%m/%Y %H:%M:%S" if dossier.language == "fr" else "%Y-%m-%d %H:%M:%S"
    return escape(local.strftime(pattern))


def _utc(moment: datetime | None) -> str:
    if moment is None:
        return "–"
    return escape(moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))


def _percent(dossier: Dossier, share: float | None) -> str:
    """``14,3 %`` in French, ``14.3 %`` in English."""
    text = percent(share)
    return escape(text.replace(".", ",") if dossier.language == "fr" else text)


def _identity(dossier: Dossier) -> str:
    w = WORDS[dossier.language]
    facts = [f"{escape(w['target'])} <code>{escape(dossier.target)}</code>"]
    if dossier.prefecture_name:
        facts.append(escape(dossier.prefecture_name))
    since = _local(dossier, dossier.since) if dossier.since else escape(w["beginning"])
    until = _local(dossier, dossier.until) if dossier.until else escape(w["now"])
    facts.append(f"{escape(w['period'])} {since} → {until}")
    facts.append(f"{escape(w['times_in'])} {escape(str(dossier.tz))}")
    return " · ".join(facts)


def _row(label: str, value: str) -> str:
    return f"<tr><th>{escape(label)}</th><td>{value}</td></tr>"


def _summary(dossier: Dossier) -> str:
    w, s, lang = WORDS[dossier.language], dossier.stats, dossier.language
    statuses = STATUS_LABELS[lang]
    rows = [
        _row(w["attempts"], str(s.attempts)),
        _row(w["days"], str(s.days)),
        _row(
            w["first_last"],
            f"{_local(dossier, s.first_attempt)} → {_local(dossier, s.last_attempt)}",
        ),
    ]
    for status in SITE_STATUSES:
        count = s.statuses.get(status, 0)
        rows.append(
            _row(
                f"{w['share']} « {statuses[status]} »" if lang == "fr" else
                f"{w['share']} “{statuses[status]}”",
                f"{_percent(dossier, s.share(status))} ({count})",
            )
        )  # fmt: skip
    rows.append(_row(w["monitor_errors"], str(s.statuses.get(Status.MONITOR_ERROR, 0))))
    colon = " : " if lang == "fr" else ": "
    anomalies = "<br>".join(
        f"{escape(REASON_LABELS[lang][reason])}{colon}{count}"
        for reason, count in s.anomalies_by_reason.items()
    )
    rows.append(_row(w["anomalies"], anomalies or "–"))
    gap = s.longest_gap
    rows.append(
        _row(
            w["longest"],
            f"<strong>{escape(humanize_duration(gap.length, lang))}</strong> "
            f"({_local(dossier, gap.start)} → {_local(dossier, gap.end)})",
        )
    )
    if s.last_slot_at is None or s.since_last_slot is None:
        rows.append(_row(w["last_slot"], escape(w["no_slot_seen"])))
    else:
        since = humanize_duration(s.since_last_slot, lang)
        rows.append(
            _row(w["last_slot"], f"{_local(dossier, s.last_slot_at)} ({escape(w['ago'] % since)})")
        )
    dated = s.dated_attempts
    buckets = "".join(
        f"<li>{escape(w['bucket_' + bucket])}{colon}{s.buckets[bucket]}"
        f"{f' ({_percent(dossier, s.buckets[bucket] / dated)})' if dated else ''}</li>"
        for bucket in BUCKETS
    )
    rows.append(_row(w["buckets"], f"<ul class='buckets'>{buckets}</ul>"))
    rows.append(_row(w["chain"], _chain_verdict(dossier)))
    rows.append(_row(w["files"], _files_verdict(dossier)))
    return (
        f"<section><h2>{escape(w['summary'])}</h2>"
        f"<p class='note'>{escape(w['summary_note'])}</p>"
        f"<table class='summary'>{''.join(rows)}</table></section>"
    )


def _chain_verdict(dossier: Dossier) -> str:
    w = WORDS[dossier.language]
    broken = [a.outcome.id for a in dossier.attempts if not a.chain_ok]
    if broken:
        ids = ", ".join(str(i) for i in broken[:10])
        return f"<strong class='bad'>{escape(w['chain_broken'])}</strong> {escape(ids)}"
    return escape(w["chain_ok"])


def _files_verdict(dossier: Dossier) -> str:
    w = WORDS[dossier.language]
    states: dict[str, set[str]] = {}
    for attempt in dossier.attempts:
        for file in attempt.files:
            states.setdefault(file.state, set()).add(file.path)
    if not states:
        return escape(w["no_files"])
    return ", ".join(
        f"{len(paths)} {escape(w['file_' + state])}" for state, paths in sorted(states.items())
    )


def _chart(dossier: Dossier) -> str:
    w, lang = WORDS[dossier.language], dossier.language
    days = [
        (a.outcome.started_at.astimezone(dossier.tz), a.outcome.status) for a in dossier.attempts
    ]
    counts = daily_counts([(moment.date(), status) for moment, status in days])
    labels = {status: STATUS_LABELS[lang][status] for status in Status}
    svg = timeline_svg(counts, labels, title=w["chart_title"])
    return f"<section class='chart'><h2>{escape(w['chart_title'])}</h2>{svg}</section>"


def _attempts(dossier: Dossier) -> str:
    w = WORDS[dossier.language]
    keys = ("col_n", "col_when", "col_result", "col_message", "col_url", "col_shot", "col_hash")
    head = "".join(f"<th>{escape(w[key])}</th>" for key in keys)
    body = "\n".join(_attempt(dossier, index, a) for index, a in enumerate(dossier.attempts, 1))
    return (
        f"<section class='attempts-section'><h2>{escape(w['attempts_title'])}</h2>"
        f"<p class='note'>{escape(w['attempts_note'])}</p>"
        f"<table class='attempts'><thead><tr>{head}</tr></thead>"
        f"<tbody>\n{body}\n</tbody></table></section>"
    )


def _attempt(dossier: Dossier, index: int, attempt: Attempt) -> str:
    w, lang, o = WORDS[dossier.language], dossier.language, attempt.outcome
    result = (
        f"<span class='status {o.status.value}'>{escape(STATUS_LABELS[lang][o.status])}</span>"
        f"<br>{escape(REASON_LABELS[lang][o.reason])}"
    )
    if o.http_status is not None:
        result += f"<br><span class='small'>HTTP {o.http_status}</span>"
    if o.assisted_by is not None:  # the operator's name, as they typed it: text, escaped
        result += (
            f"<br><span class='small assisted'>{escape(w['assisted_by'])} "
            f"{escape(o.assisted_by)}</span>"
        )
    if o.slot_count is not None or o.earliest_slot is not None:
        result += (
            f"<br><span class='small'>{escape(w['slots'])} {o.slot_count or '?'} – "
            f"{escape(w['earliest'])} {_local(dossier, o.earliest_slot)}</span>"
        )
    urls = f"<a href='{escape(o.url)}'>{escape(o.url)}</a>"
    if o.final_url and o.final_url != o.url:
        urls += f"<br><span class='small'>→ {escape(o.final_url)}</span>"
    shots, others = [], []
    for file in attempt.files:
        if file.state != "copied":
            kind = w["one_png"] if file.is_screenshot else w["one_html"]
            others.append(
                f"<span class='bad small'>{escape(kind)} {escape(w['one_' + file.state])}</span>"
            )
        elif file.is_screenshot:
            shots.append(
                f"<a href='{escape(file.href)}'><img class='thumb' src='{escape(file.href)}' "
                f"alt='{escape(w['screenshot'])} {index}'></a>"
            )
        else:
            others.append(
                f"<a class='small' href='{escape(file.source_href)}'>{escape(w['html'])}</a>"
            )
    hashes = "".join(
        f"<div><span class='small'>{escape(w['file'])}</span> <code>{escape(f.sha256)}</code></div>"
        for f in attempt.files
    )  # fmt: skip
    hashes += (
        f"<div><span class='small'>{escape(w['digest'])}</span> "
        f"<code>{escape(o.sha256 or '–')}</code></div>"
        f"<div><span class='small'>{escape(w['chain_value'])}</span> "
        f"<code>{escape(o.chain or '–')}</code></div>"
    )
    mark = (
        "" if attempt.chain_ok else f" <strong class='bad'>{escape(w['chain_mismatch'])}</strong>"
    )
    return (
        f"<tr id='o{o.id}'><td>{index}<br><span class='small'>#{o.id}</span></td>"
        f"<td>{_local(dossier, o.started_at)}<br>"
        f"<span class='small'>{_utc(o.started_at)}</span></td>"
        f"<td>{result}</td><td class='message'>{escape(render_outcome(o, lang, dossier.tz))}</td>"
        f"<td class='url'>{urls}</td><td>{''.join(shots)}{'<br>'.join(others)}</td>"
        f"<td class='hash'>{hashes}{mark}</td></tr>"
    )  # fmt: skip


def _how_to_verify(dossier: Dossier) -> str:
    w = WORDS[dossier.language]
    previous = dossier.previous_chain or GENESIS
    last = dossier.attempts[-1].outcome.chain or ""
    steps = "".join(f"<li>{step}</li>" for step in w["verify_steps"])
    facts = (
        f"<p>{escape(w['previous_chain'])} <code>{escape(previous)}</code><br>"
        f"{escape(w['last_chain'])} <code>{escape(last)}</code><br>"
        f"{escape(w['head'])} <code>{escape(dossier.chain_head or '–')}</code></p>"
    )
    return (
        f"<section class='verify'><h2>{escape(w['verify_title'])}</h2>"
        f"<ol>{steps}</ol>{facts}</section>"
    )
