"""The dossier's words (French and English) and its style sheet (screen and A4 print).

``verify_steps`` are trusted markup written here; every other entry is plain text that
the renderer escapes.
"""

from __future__ import annotations

from typing import Any

_VERIFY_FR = [
    "Chaque fichier de preuve (capture d'écran PNG, page HTML enregistrée) porte pour nom "
    "son empreinte SHA-256 : <code>sha256sum evidence/ab/ab….png</code> doit afficher le nom "
    "du fichier. Un fichier modifié ne correspond plus à son nom.",
    "L'empreinte « preuves » d'une tentative est le SHA-256 du texte que <code>sha256sum"
    "</code> affiche pour ses fichiers, triés par chemin, depuis le dossier "
    "<code>evidence</code> : <code>cd evidence && sha256sum ab/ab….html cd/cd….png | "
    "LC_ALL=C sort -k2 | sha256sum</code>.",
    "Le « chaînage » relie chaque tentative à la précédente de la même démarche : "
    "SHA-256 de la valeur de chaînage précédente (64 caractères hexadécimaux ; 64 zéros pour "
    "la toute première) suivie de la tentative en JSON canonique : les clés target, "
    "prefecture, started_at, finished_at, engine, status, reason, detail, http_status, url, "
    "final_url, slot_count, earliest_slot, sha256, triées, sans espace, en UTF-8, les dates "
    "en UTC au format <code>2025-03-01T08:00:00.000000+00:00</code> ; une tentative qui a un "
    "detail_code y ajoute detail_code et detail_args (le motif et ses valeurs, dont le message "
    "affiché est tiré), une tentative faite par un nœud du démon y ajoute node (le nom du "
    "nœud), et une tentative faite dans une session assistée y ajoute assisted_by (le nom de "
    "la personne qui l'a ouverte). Modifier, retirer ou insérer une tentative rompt le "
    "chaînage de la suivante.",
    "Les données de chaque tentative sont dans <code>outcomes.json</code>. "
    "<code>manifest.json</code> est la référence du dossier : il donne l'empreinte SHA-256 "
    "de chaque autre fichier, les fichiers qui doivent y être (<code>index.html</code>, "
    "<code>outcomes.json</code>, <code>verify_dossier.py</code>), le nombre de tentatives et "
    "leurs numéros, le chaînage précédant la première et celui de la dernière, et chaque "
    "fichier de preuve non joint avec sa raison (purgé, manquant, altéré). Son empreinte "
    "(<code>sha256sum manifest.json</code>) est celle que <code>monitor evidence</code> a "
    "affichée en établissant le dossier, que cite le courrier qui l'accompagne : un manifeste "
    "d'une autre empreinte n'est pas celui du dossier remis.",
    "<code>python3 verify_dossier.py</code> (Python seul suffit) affiche d'abord cette "
    "empreinte, puis refait tous ces calculs et signale, une ligne par problème : un fichier "
    "modifié ou manquant, un fichier présent que le manifeste ne cite pas, un chemin absolu, "
    "qui sort du dossier ou qui est un lien symbolique, des tentatives retirées ou ajoutées "
    "(nombre, numéros, dernier chaînage), une preuve ni jointe ni déclarée non jointe. "
    "<code>python3 verify_dossier.py EMPREINTE</code> la compare en plus à celle du courrier ; "
    "<code>monitor verify</code> refait ces calculs sur la base de données d'origine.",
    "Les pages HTML enregistrées sont montrées comme texte (dossier <code>pages</code>), "
    "sans que leurs scripts s'exécutent ; la capture d'écran montre la page telle qu'elle "
    "s'affichait. Ouvert dans un navigateur, le fichier d'origine sous <code>evidence</code> "
    "exécuterait les scripts de la page : le lire avec un éditeur de texte.",
]
_VERIFY_EN = [
    "Every evidence file (PNG screenshot, saved HTML page) is named after its SHA-256: "
    "<code>sha256sum evidence/ab/ab….png</code> must print the file's own name. A changed "
    "file no longer matches its name.",
    "An attempt's evidence digest is the SHA-256 of what <code>sha256sum</code> prints for "
    "its files, sorted by path, from the <code>evidence</code> folder: <code>cd evidence "
    "&& sha256sum ab/ab….html cd/cd….png | LC_ALL=C sort -k2 | sha256sum</code>.",
    "The chain links each attempt to the previous one of the same procedure: SHA-256 of "
    "the previous chain value (64 hex characters; 64 zeros for the very first) followed by "
    "the attempt as canonical JSON: keys target, prefecture, started_at, finished_at, "
    "engine, status, reason, detail, http_status, url, final_url, slot_count, "
    "earliest_slot, sha256, sorted, no whitespace, UTF-8, times in UTC as "
    "<code>2025-03-01T08:00:00.000000+00:00</code>; an attempt with a detail_code adds "
    "detail_code and detail_args (the reason code and values its message is written from), "
    "one made by a daemon node adds node (the node's name), and one made in an assisted "
    "session adds assisted_by (the name of the person who opened it). "
    "Editing, removing or inserting an attempt breaks the next one's link.",
    "Each attempt's data is in <code>outcomes.json</code>. <code>manifest.json</code> is "
    "the dossier's reference: it gives every other file with its SHA-256, the files that "
    "must be there (<code>index.html</code>, <code>outcomes.json</code>, "
    "<code>verify_dossier.py</code>), the number of attempts and their ids, the chain value "
    "before the first and that of the last, and each evidence file not included with why "
    "(pruned, missing, altered). Its own SHA-256 (<code>sha256sum manifest.json</code>) is "
    "the one <code>monitor evidence</code> printed when it made the dossier, which the "
    "covering letter quotes: a manifest with another SHA-256 is not the dossier handed over.",
    "<code>python3 verify_dossier.py</code> (plain Python is enough) prints that SHA-256 "
    "first, then redoes all of this and names, one line per problem: a changed or missing "
    "file, a file the manifest does not list, a path that is absolute, climbs out of the "
    "folder or is a symbolic link, attempts removed or added (count, ids, last chain value), "
    "evidence neither included nor listed as not included. <code>python3 verify_dossier.py "
    "SHA256</code> also compares it with the letter's; <code>monitor verify</code> redoes "
    "it on the original database.",
    "Saved HTML pages are shown as text (the <code>pages</code> folder), without running "
    "their scripts; the screenshot shows the page as it looked. Opened in a browser, the "
    "original file under <code>evidence</code> would run the page's scripts: read it in a "
    "text editor.",
]

# fmt: off
WORDS: dict[str, dict[str, Any]] = {
    "fr": {
        "title": "Dossier de preuves", "target": "Démarche", "period": "Période :",
        "beginning": "début des relevés", "now": "maintenant",
        "times_in": "heures locales :", "generated": "Dossier établi le",
        "summary": "Synthèse",
        "summary_note": "Parts calculées sur les tentatives qui renseignent sur le site ; "
                        "les erreurs du moniteur lui-même sont comptées à part.",
        "attempts": "Tentatives", "days": "Jours avec au moins une tentative",
        "first_last": "Première et dernière tentative", "share": "Part",
        "monitor_errors": "Erreurs du moniteur (non imputées au site)",
        "anomalies": "Anomalies par cause",
        "longest": "Plus longue période sans aucun créneau",
        "last_slot": "Dernier créneau observé", "no_slot_seen": "aucun sur la période",
        "ago": "il y a %s",
        "buckets": "Dates proposées (catégories de La Cimade)",
        "bucket_at_least_two_dates_within_a_month": "au moins deux dates dans le mois",
        "bucket_one_date_within_a_month": "une seule date dans le mois",
        "bucket_first_date_in_one_to_two_months": "première date entre un et deux mois",
        "bucket_first_date_beyond_two_months": "première date au-delà de deux mois",
        "bucket_no_date": "aucune date",
        "chain": "Chaînage des tentatives",
        "chain_ok": "recalculé à l'établissement du dossier : intact",
        "chain_broken": "rompu aux tentatives n°", "chain_mismatch": "chaînage rompu",
        "files": "Fichiers de preuve", "no_files": "aucun",
        "file_copied": "joint(s)", "file_pruned": "supprimé(s) par purge",
        "file_missing": "manquant(s)", "file_altered": "altéré(s), non joint(s)",
        "one_png": "capture", "one_html": "page HTML", "one_pruned": "supprimée par purge",
        "one_missing": "manquante", "one_altered": "altérée, non jointe",
        "chart_title": "Résultat des tentatives par jour",
        "attempts_title": "Détail de chaque tentative",
        "attempts_note": "Heure locale puis UTC ; message tel que la page l'affichait ; "
                         "cliquer sur une vignette ouvre la capture complète.",
        "col_n": "N°", "col_when": "Date et heure", "col_result": "Résultat",
        "col_message": "Message affiché", "col_url": "Adresse", "col_shot": "Capture",
        "col_hash": "Empreintes SHA-256",
        "slots": "créneaux :", "earliest": "premier :", "screenshot": "Capture de la tentative",
        "assisted_by": "session assistée ouverte par",
        "html": "page HTML (code source)", "file": "fichier", "digest": "preuves",
        "chain_value": "chaînage",
        "source_title": "Page HTML enregistrée, montrée comme texte",
        "source_note": "Le code source de la page telle que le moniteur l'a reçue, affiché "
                       "sans être exécuté : aucun script de la page ne tourne ici. La capture "
                       "d'écran montre la page telle qu'elle s'affichait. Ouvrir le fichier "
                       "d'origine (ci-dessous) dans un navigateur exécuterait les scripts de "
                       "la page : le lire comme texte.",
        "source_cut": "%d caractères de plus, non affichés : voir le fichier lui-même",
        "verify_title": "Comment vérifier ce dossier", "verify_steps": _VERIFY_FR,
        "previous_chain": "Chaînage précédant la première tentative :",
        "last_chain": "Chaînage de la dernière tentative :",
        "head": "Dernier chaînage enregistré pour la démarche :",
    },
    "en": {
        "title": "Evidence dossier", "target": "Procedure", "period": "Period:",
        "beginning": "first record", "now": "now",
        "times_in": "local times:", "generated": "Dossier made on",
        "summary": "Summary",
        "summary_note": "Shares are of the attempts that say something about the site; the "
                        "monitor's own errors are counted apart.",
        "attempts": "Attempts", "days": "Days with at least one attempt",
        "first_last": "First and last attempt", "share": "Share",
        "monitor_errors": "Monitor errors (not held against the site)",
        "anomalies": "Anomalies by cause",
        "longest": "Longest period without any slot",
        "last_slot": "Last slot seen", "no_slot_seen": "none in the period", "ago": "%s ago",
        "buckets": "Dates offered (La Cimade's categories)",
        "bucket_at_least_two_dates_within_a_month": "at least two dates within a month",
        "bucket_one_date_within_a_month": "one date within a month",
        "bucket_first_date_in_one_to_two_months": "first date in one to two months",
        "bucket_first_date_beyond_two_months": "first date beyond two months",
        "bucket_no_date": "no date",
        "chain": "Chain of attempts",
        "chain_ok": "recomputed when the dossier was made: intact",
        "chain_broken": "broken at attempt ids", "chain_mismatch": "chain broken",
        "files": "Evidence files", "no_files": "none",
        "file_copied": "included", "file_pruned": "removed by a prune",
        "file_missing": "missing", "file_altered": "altered, not included",
        "one_png": "screenshot", "one_html": "HTML page", "one_pruned": "removed by a prune",
        "one_missing": "missing", "one_altered": "altered, not included",
        "chart_title": "Outcome of the attempts per day",
        "attempts_title": "Every attempt",
        "attempts_note": "Local time, then UTC; the message as the page showed it; a "
                         "thumbnail opens the full screenshot.",
        "col_n": "#", "col_when": "Date and time", "col_result": "Result",
        "col_message": "Message shown", "col_url": "Address", "col_shot": "Screenshot",
        "col_hash": "SHA-256 digests",
        "slots": "slots:", "earliest": "earliest:", "screenshot": "Screenshot of attempt",
        "assisted_by": "assisted session opened by",
        "html": "HTML page (source)", "file": "file", "digest": "evidence",
        "chain_value": "chain",
        "source_title": "Saved HTML page, shown as text",
        "source_note": "The page's source as the monitor received it, shown without running "
                       "it: none of the page's scripts runs here. The screenshot shows the "
                       "page as it looked. Opening the original file (below) in a browser "
                       "would run the page's scripts: read it as text.",
        "source_cut": "%d more characters not shown: see the file itself",
        "verify_title": "How to verify this dossier", "verify_steps": _VERIFY_EN,
        "previous_chain": "Chain value before the first attempt:",
        "last_chain": "Chain value of the last attempt:",
        "head": "Latest chain value recorded for the procedure:",
    },
}
# fmt: on

STYLE = """
:root { --ink: #1d1d1f; --muted: #5f6368; --line: #d0d0d0; }
* { box-sizing: border-box; }
body { font: 11pt/1.4 "DejaVu Sans", Arial, sans-serif; color: var(--ink); margin: 24px auto;
       max-width: 1100px; padding: 0 16px; }
h1 { font-size: 18pt; margin: 0 0 4px; }
h2 { font-size: 13pt; margin: 22px 0 8px; border-bottom: 2px solid var(--ink); }
.sub, .note, footer { color: var(--muted); font-size: 9.5pt; }
code { font: 8pt/1.2 "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid var(--line); padding: 4px 6px; vertical-align: top; text-align: left; }
table.summary th { width: 38%; font-weight: 600; background: #f4f4f4; }
ul.buckets { margin: 0; padding-left: 18px; }
table.attempts { font-size: 8.5pt; table-layout: fixed; }
table.attempts thead th { background: #ececec; }
table.attempts th:nth-child(1) { width: 5%; } table.attempts th:nth-child(2) { width: 12%; }
table.attempts th:nth-child(3) { width: 13%; } table.attempts th:nth-child(4) { width: 19%; }
table.attempts th:nth-child(5) { width: 17%; } table.attempts th:nth-child(6) { width: 12%; }
table.attempts th:nth-child(7) { width: 22%; }
td.url, td.message { overflow-wrap: anywhere; }
td.hash div { margin-bottom: 2px; }
.small { font-size: 7.5pt; color: var(--muted); }
.status { font-weight: 700; }
.status.available { color: #1a7f37; } .status.unavailable { color: #c9372c; }
.status.anomaly { color: #7a3ea1; } .status.monitor_error { color: #6b6b6b; }
.bad { color: #b00020; }
img.thumb { width: 100%; max-width: 150px; border: 1px solid var(--line); display: block; }
svg.timeline { width: 100%; height: auto; max-width: 900px; font-family: sans-serif; }
footer { margin-top: 24px; border-top: 1px solid var(--line); padding-top: 6px; }
a { color: #0b57d0; }
@page { size: A4; margin: 14mm 10mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 9.5pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; }
  section.chart, table.summary tr { break-inside: avoid; }
  table.attempts thead { display: table-header-group; }
  table.attempts tr { break-inside: avoid; }
  section.attempts-section { break-before: page; }
}
"""
