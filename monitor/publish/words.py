"""The status page's own words, French and English (plain text: the templates escape it).

Status and reason labels come from monitor.alerts.messages and La Cimade's buckets from the
dossier's words, so a reader sees the same words in an alert, a dossier and on the page.
"""

from __future__ import annotations

from monitor.alerts.phrasebook import REASON_LABELS, STATUS_LABELS
from monitor.domain import Reason, Status
from monitor.evidence.dossier.words import WORDS as DOSSIER_WORDS
from monitor.publish.figures import NOT_OBSERVED, NOT_PROBED
from monitor.reports.stats import BUCKETS

# fmt: off
_OWN: dict[str, dict[str, str]] = {
    "fr": {
        "site_title": "Rendez-vous en préfecture : état des prises de rendez-vous en ligne",
        "intro": "Pour chaque préfecture et chaque démarche, ce qu'a vu le moniteur à sa "
                 "dernière tentative, depuis quand, et sur les 90 derniers jours combien de jours "
                 "sans aucun créneau et quelle part des tentatives ont échoué sur une anomalie "
                 "du site (erreur, maintenance, captcha…).",
        "generated": "Page établie le", "timezone": "heures de", "licence": "Licence des données :",
        "filter": "Filtrer (préfecture, démarche, département)", "filter_status": "État",
        "all_statuses": "tous", "shown": "démarches affichées",
        "col_prefecture": "Préfecture", "col_procedure": "Démarche", "col_status": "État",
        "col_since": "Depuis", "col_last_slot": "Dernier créneau vu",
        "col_days_without": "Jours sans créneau (90\u00a0j)",
        "col_anomaly_share": "Part d'anomalies (90\u00a0j)",
        "sort_hint": "Cliquez un titre de colonne pour trier.",
        "never": "jamais", "never_probed": "jamais sondée", "none": "—",
        "back": "← Toutes les démarches", "target_heading": "Démarche",
        "now": "Situation actuelle", "current": "État", "reason": "Motif",
        "since": "Depuis le", "last_probe": "Dernière tentative",
        "last_message": "Dernier message du site", "booking_page": "Page de prise de rendez-vous",
        "figures": "Sur les 90 derniers jours", "attempts": "Tentatives",
        "days_observed": "Jours avec au moins une tentative",
        "days_without": "Jours sans aucun créneau", "share_of": "Part « {} »",
        "monitor_errors": "Erreurs du moniteur (non imputées au site)",
        "longest": "Plus longue période sans aucun créneau", "last_slot": "Dernier créneau vu",
        "chart_title": "Chronologie heure par heure sur 90 jours",
        "chart_note": "Une colonne par jour, une ligne par heure (0 h en haut). Une heure est "
                      "verte si un créneau a été vu, sinon de l'état le plus fréquent ; grise "
                      "claire si aucune tentative.",
        "buckets": "Dates proposées (catégories de La Cimade, « À guichets fermés »)",
        "buckets_note": "Par tentative : la première date proposée, comptée depuis la "
                        "tentative (un mois = 30 jours) ; « aucune date » = pas de créneau.",
        "periods": "Périodes d'anomalie", "no_period": "Aucune anomalie sur 90 jours.",
        "col_from": "Du", "col_to": "Au", "col_length": "Durée", "col_attempts": "Tentatives",
        "col_reasons": "Motifs", "ongoing": "en cours",
        "periods_more": "Les {shown} plus récentes sur {total} ; toutes sont dans les données.",
        "screenshot": "Dernière capture d'écran",
        "screenshot_alt": "Capture d'écran de la page de {name}, le {when}",
        "no_screenshot": "Pas de capture d'écran (cette démarche est sondée sans navigateur).",
        "data": "Données ouvertes", "data_target": "Données de cette démarche :",
        "data_departement": "Données du département :", "data_all": "Toutes les démarches :",
        "data_intro": "Agrégats quotidiens, une ligne par jour et par démarche, en CSV et en "
                      "JSON. Aucune donnée personnelle : des comptes de tentatives par état et "
                      "par motif.",
        "schema": "Description des champs",
        "field": "Champ", "type": "Type", "meaning": "Signification",
        "status_none": "aucune tentative",
        "status_not_observed": "non observée",
        "data_current": "État actuel de chaque démarche (« not_observed » quand le site n'a "
                        "plus été observé depuis deux intervalles) :",
        "schema_current": "Champs de l'état actuel (current.csv, current.json)",
        "not_observed_since": "Non observée depuis le",
        "never_observed": "le site n'a jamais été observé (erreurs du moniteur seulement)",
        "not_observed_note": "Aucune réponse du site n'a été obtenue depuis plus de deux "
                             "intervalles de sondage : son dernier état n'est plus affiché "
                             "comme actuel.",
        "week_title": "Quand des créneaux sont apparus",
        "week_note": "Une case par heure de la semaine (heure locale), sur les 90 derniers "
                     "jours : le chiffre dit combien de fois des créneaux sont apparus à cette "
                     "heure-là (une fois par apparition, quand ils apparaissent, même s'ils "
                     "restent ouverts ensuite) ; plus la case est foncée, plus c'est fréquent. "
                     "Gris : heure jamais sondée ; blanc : sondée, aucune apparition.",
        "week_none": "Aucun créneau n'est apparu sur les 90 derniers jours.",
        "week_summary": "Des créneaux sont apparus {count} fois ; le plus souvent :",
        "week_caption": "{name} : apparitions de créneaux par jour de la semaine (lignes) et "
                        "par heure (colonnes)",
        "week_hour": "{day} {start} h–{end} h",
        "week_cell": "{when} : {openings} apparition(s) ; {probes} tentative(s), dont "
                     "{with_slots} avec créneaux",
        "week_cell_none": "{when} : jamais sondée",
        "week_legend_none": "jamais sondée", "week_legend_zero": "aucune apparition",
        "week_legend_levels": "de rare à fréquent",
    },
    "en": {
        "site_title": "Prefecture appointments: the state of online booking",
        "intro": "For each prefecture and procedure, what the monitor saw at its latest "
                 "attempt, since when, and over the last 90 days how many days without any "
                 "slot and what share of attempts hit a site anomaly (error, maintenance, "
                 "captcha…).",
        "generated": "Page generated on", "timezone": "times in", "licence": "Data licence:",
        "filter": "Filter (prefecture, procedure, département)", "filter_status": "Status",
        "all_statuses": "all", "shown": "procedures shown",
        "col_prefecture": "Prefecture", "col_procedure": "Procedure", "col_status": "Status",
        "col_since": "Since", "col_last_slot": "Last slot seen",
        "col_days_without": "Days without a slot (90\u00a0d)",
        "col_anomaly_share": "Anomaly share (90\u00a0d)",
        "sort_hint": "Click a column heading to sort.",
        "never": "never", "never_probed": "never probed", "none": "—",
        "back": "← All procedures", "target_heading": "Procedure",
        "now": "Now", "current": "Status", "reason": "Reason",
        "since": "Since", "last_probe": "Latest attempt",
        "last_message": "The site's latest message", "booking_page": "Booking page",
        "figures": "Over the last 90 days", "attempts": "Attempts",
        "days_observed": "Days with at least one attempt",
        "days_without": "Days without any slot", "share_of": "Share “{}”",
        "monitor_errors": "Monitor errors (not counted against the site)",
        "longest": "Longest period without any slot", "last_slot": "Last slot seen",
        "chart_title": "Hour by hour over 90 days",
        "chart_note": "One column per day, one row per hour (midnight at the top). An hour is "
                      "green when a slot was seen, else the most frequent status; light grey "
                      "when nothing was tried.",
        "buckets": "Dates offered (La Cimade's categories, \"À guichets fermés\")",
        "buckets_note": "Per attempt: the first date offered, counted from the attempt "
                        "(a month = 30 days); \"no date\" = no slot.",
        "periods": "Anomaly periods", "no_period": "No anomaly in 90 days.",
        "col_from": "From", "col_to": "To", "col_length": "Length", "col_attempts": "Attempts",
        "col_reasons": "Reasons", "ongoing": "ongoing",
        "periods_more": "The {shown} latest of {total}; all are in the data.",
        "screenshot": "Latest screenshot",
        "screenshot_alt": "Screenshot of the page of {name}, on {when}",
        "no_screenshot": "No screenshot (this procedure is probed without a browser).",
        "data": "Open data", "data_target": "This procedure's data:",
        "data_departement": "The département's data:", "data_all": "Every procedure:",
        "data_intro": "Daily aggregates, one row per day and procedure, as CSV and JSON. No "
                      "personal data: counts of attempts per status and reason.",
        "schema": "Fields",
        "field": "Field", "type": "Type", "meaning": "Meaning",
        "status_none": "no attempt",
        "status_not_observed": "not observed",
        "data_current": "Each procedure's current status (\"not_observed\" when its site has "
                        "not been observed for two intervals):",
        "schema_current": "Fields of the current status (current.csv, current.json)",
        "not_observed_since": "Not observed since",
        "never_observed": "the site was never observed (monitor errors only)",
        "not_observed_note": "No answer from the site for more than two probing intervals: "
                             "its last status is no longer shown as current.",
        "week_title": "When slots appeared",
        "week_note": "One square per hour of the week (local time), over the last 90 days: "
                     "the number says how many times slots appeared in that hour (once per "
                     "appearance, when they appear, even if they stay open afterwards); the "
                     "darker, the more often. Grey: never probed in that hour; white: probed, "
                     "nothing appeared.",
        "week_none": "No slot appeared in the last 90 days.",
        "week_summary": "Slots appeared {count} times; most often:",
        "week_caption": "{name}: slots appearing by day of the week (rows) and hour (columns)",
        "week_hour": "{day} {start}:00–{end}:00",
        "week_cell": "{when}: {openings} appearance(s); {probes} attempt(s), {with_slots} "
                     "with slots",
        "week_cell_none": "{when}: never probed",
        "week_legend_none": "never probed", "week_legend_zero": "nothing appeared",
        "week_legend_levels": "rare to frequent",
    },
}
# fmt: on


def words(language: str) -> dict[str, str]:
    """Every word of the site in ``language``: its own, statuses, reasons and buckets."""
    table = dict(_OWN[language])
    statuses = STATUS_LABELS[language]
    for status in Status:
        table[f"status_{status}"] = statuses[status]
    table[f"status_{NOT_PROBED}"] = table["status_none"]
    table[f"status_{NOT_OBSERVED}"] = table["status_not_observed"]
    for reason in Reason:
        table[f"reason_{reason}"] = REASON_LABELS[language][reason]
    for bucket in BUCKETS:
        table[f"bucket_{bucket}"] = DOSSIER_WORDS[language][f"bucket_{bucket}"]
    return table
