"""The words of what went wrong on the way: a step that failed, a connection, the monitor itself.

One entry per code of :data:`~monitor.domain.FaultCode`: ``code: (French words, English
words)``; ``doing.*`` codes end a sentence about the step that failed. A new code is named
there first (mypy refuses one that is not).
"""

from __future__ import annotations

from monitor.details.values import (
    WHAT_FR,
    Words,
    doing,
)
from monitor.domain import FaultCode

#: Why a destination was refused (``destination_refused``): (French, English).
_DESTINATION_WHY = {
    "scheme": ("ce n'est pas une adresse http(s)", "not an http(s) address"),
    "internal": (
        "adresse locale ou privée, alors que la cible est publique",
        "a loopback or private address, while the target is public",
    ),
    "malformed": ("adresse illisible", "an unreadable address"),
}


# fmt: off
#: Each code's words: (French, English). The English of a code is its record line.
FAULT_CODES: dict[FaultCode, tuple[Words, Words]] = {
    # -- the probe's own steps ----------------------------------------------------------
    "probe_timeout": (
        lambda v: f"la sonde n'a pas fini en {v.seconds('seconds')} (settings.probe_timeout)"
                  + (f", sans compter {v.seconds('held')} de retenue par la politesse"
                     if v.has("held") else ""),
        lambda v: f"the probe did not finish within {v.seconds('seconds')} "
                  "(settings.probe_timeout)"
                  + (f", not counting {v['held']}s held back by the politeness gate"
                     if v.has("held") else ""),
    ),
    "step_timeout": (
        lambda v: f"délai de {v.seconds('seconds')} dépassé {v['doing']}",
        lambda v: f"timed out after {v.seconds('seconds')} {v['doing']}",
    ),
    "timed_out": (
        lambda v: f"délai dépassé {v['doing']}",
        lambda v: f"timed out {v['doing']} ({v['message']})",
    ),
    "network_code": (
        lambda v: f"{v['code']} {v['doing']}",
        lambda v: f"{v['code']} {v['doing']}",
    ),
    "request_failed": (
        lambda v: f"requête échouée ({v['failure']}) {v['doing']}",
        lambda v: f"{v['failure']} {v['doing']}",
    ),
    "browser_gone": (
        lambda v: f"Chromium a disparu {v['doing']} : «{v['message']}»",
        lambda v: f"Chromium went away {v['doing']}: {v['message']}",
    ),
    "unexpected_during": (
        lambda v: f"erreur inattendue {v['kind']} {v['doing']} : «{v['message']}»",
        lambda v: f"unexpected {v['kind']} {v['doing']}: {v['message']}",
    ),
    "too_many_redirects": (
        lambda v: f"trop de redirections depuis {v['url']}"
                  + (f" (plus de {v['max']})" if v.has("max") else ""),
        lambda v: (f"more than {v['max']} redirects from {v['url']}" if v.has("max")
                   else f"too many redirects from {v['url']}"),
    ),
    "no_answer": (
        lambda v: f"aucune réponse de {v['where']} en {v.seconds('seconds')} ({v['kind']})",
        lambda v: f"no answer from {v['where']} within {v.seconds('seconds')} ({v['kind']})",
    ),
    "connection_refused": (
        lambda v: f"connexion refusée par {v['where']} ({v['kind']})",
        lambda v: f"connection refused by {v['where']} ({v['kind']})",
    ),
    "connection_reset": (
        lambda v: f"connexion réinitialisée par {v['where']} ({v['kind']})",
        lambda v: f"connection reset by {v['where']} ({v['kind']})",
    ),
    "connection_closed": (
        lambda v: f"connexion fermée par {v['where']} ({v['kind']})",
        lambda v: f"connection closed by {v['where']} ({v['kind']})",
    ),
    "tls_failure": (
        lambda v: f"échec TLS ({v['message']}) avec {v['where']} ({v['kind']})",
        lambda v: f"TLS failure ({v['message']}) with {v['where']} ({v['kind']})",
    ),
    "cannot_resolve": (
        lambda v: f"nom introuvable : {v['where']} ({v['kind']})",
        lambda v: f"cannot resolve the name of {v['where']} ({v['kind']})",
    ),
    "broken_answer": (
        lambda v: f"réponse HTTP invalide de {v['where']} ({v['kind']} : «{v['message']}»)",
        lambda v: f"broken HTTP answer ({v['message']}) from {v['where']} ({v['kind']})",
    ),
    "cannot_connect": (
        lambda v: f"connexion impossible à {v['where']} ({v['kind']} : «{v['message']}»)",
        lambda v: f"cannot connect ({v['message']}) to {v['where']} ({v['kind']})",
    ),
    "connection_failed": (
        lambda v: f"échec de la connexion avec {v['where']} ({v['kind']} : «{v['message']}»)",
        lambda v: f"connection failed ({v['message']}) with {v['where']} ({v['kind']})",
    ),
    "no_element": (
        lambda v: f"aucun {WHAT_FR.get(v['what'], v['what'])} ne correspond à "
                  f"{v['selector']} sur {v['url']}",
        lambda v: f"no {v['what']} matches '{v['selector']}' on {v['url']}",
    ),
    "no_field": (
        lambda v: f"le formulaire de {v['url']} n'a pas de champ {v['name']}",
        lambda v: f"the form on {v['url']} has no field '{v['name']}'",
    ),
    "field_without_name": (
        lambda v: f"le champ {v['selector']} de {v['url']} n'a pas de nom",
        lambda v: f"field '{v['selector']}' on {v['url']} has no name",
    ),
    "no_choice": (
        lambda v: f"pas de choix {v['value']} pour {v['name']} sur {v['url']}",
        lambda v: f"no choice '{v['value']}' for '{v['name']}' on {v['url']}",
    ),
    "no_option": (
        lambda v: f"pas d'option {v['value']} dans {v['name']} sur {v['url']}",
        lambda v: f"no option '{v['value']}' in '{v['name']}' on {v['url']}",
    ),
    "not_in_form": (
        lambda v: f"{v['selector']} n'est dans aucun formulaire sur {v['url']}",
        lambda v: f"'{v['selector']}' on {v['url']} is not in a form",
    ),
    "button_without_form": (
        lambda v: f"le bouton de {v['url']} n'appartient à aucun formulaire",
        lambda v: f"the button on {v['url']} belongs to no form",
    ),
    "doing.load": doing("en chargeant {url}", "loading {url}"),
    "doing.submit": doing("en envoyant le formulaire par {button} sur {url}",
                           "submitting '{button}' on {url}"),
    "doing.click": doing("en cliquant sur {selector} ({url})", "clicking '{selector}' on {url}"),
    "doing.fill": doing("en remplissant {selector} ({url})", "filling '{selector}' on {url}"),
    "doing.check": doing("en cochant {selector} ({url})", "checking '{selector}' on {url}"),
    "doing.select": doing("en choisissant dans {selector} ({url})",
                           "selecting in '{selector}' on {url}"),
    "doing.wait": doing("en attendant {selector} sur {url}", "waiting for '{selector}' on {url}"),
    "doing.after_click": doing("en attendant la page après un clic sur {url}",
                                "waiting for the page after a click on {url}"),
    "doing.open_page": doing("en ouvrant une page", "opening a page"),
    "doing.open_context": doing("en ouvrant un contexte de navigateur",
                                 "opening a browser context"),
    "doing.fetch": doing("en demandant {url}", "fetching {url}"),
    "doing.screenshot": doing("en faisant la capture d'écran de {url}",
                               "taking a screenshot of {url}"),
    # -- the monitor itself ---------------------------------------------------------------
    "no_page": (
        lambda v: "la sonde s'est terminée sans aucune page",
        lambda v: "the probe ended without any page",
    ),
    "guard": (
        lambda v: f"garde-fou interne : « disponible » sans règle positive ({v['finding']})",
        lambda v: f"internal guard: 'available' without a positive rule ({v['finding']})",
    ),
    "unexpected": (
        lambda v: f"erreur inattendue {v['kind']} dans la sonde : «{v['message']}»",
        lambda v: f"unexpected {v['kind']} in the probe: {v['message']}",
    ),
    "crashed": (
        lambda v: f"erreur interne pendant la sonde : {v['kind']} : «{v['message']}»",
        lambda v: f"internal error while probing: {v['kind']}: {v['message']}",
    ),
    "fault": (
        lambda v: f"erreur du moniteur : «{v['message']}»",
        lambda v: v["message"],
    ),
    "network_down": (
        lambda v: v["why"] + (f" ; la sonde a vu : {v['seen']}" if v.has("seen") else ""),
        lambda v: v["why"] + (f"; the probe saw: {v['seen']}" if v.has("seen") else ""),
    ),
    "own_network_down": (
        lambda v: f"le réseau du moniteur lui-même est coupé ({v['check']})"
                  + (f" sur le nœud {v['node']}" if v.has("node") else ""),
        lambda v: f"the monitor's own network is down ({v['check']})"
                  + (f" on node {v['node']}" if v.has("node") else ""),
    ),
    "every_host_failing": (
        lambda v: "tous les sites sondés récemment ont échoué au niveau du réseau : "
                  "le moniteur est hors ligne"
                  + (f" (nœud {v['node']})" if v.has("node") else ""),
        lambda v: "every site probed recently failed at the network level: "
                  "the monitor is offline"
                  + (f" (node {v['node']})" if v.has("node") else ""),
    ),
    "host_answered": (
        lambda v: f"{v['host']} a répondu"
                  + (f" (nœud {v['node']})" if v.has("node") else ""),
        lambda v: f"{v['host']} answered"
                  + (f" (node {v['node']})" if v.has("node") else ""),
    ),
    "connectivity_off": (
        lambda v: "vérification de la connectivité désactivée",
        lambda v: "connectivity check disabled",
    ),
    "connectivity_ok": (
        lambda v: "la vérification de la connectivité a répondu",
        lambda v: "connectivity check answered",
    ),
    "connectivity_failed": (
        lambda v: f"la vérification de la connectivité a échoué : {v['failures']}",
        lambda v: f"connectivity check failed: {v['failures']}",
    ),
    "unreachable_url": (
        lambda v: f"{v['url']} : {v['kind']}",
        lambda v: f"{v['url']}: {v['kind']}",
    ),
    # -- hostile pages (issue 12) ---------------------------------------------------------
    "destination_refused": (
        lambda v: f"le site mène à {v['url']}, que le moniteur refuse de demander : "
                  + _DESTINATION_WHY.get(v["why"], (v["why"],) * 2)[0],
        lambda v: f"the site leads to {v['url']}, which the monitor refuses to request: "
                  + _DESTINATION_WHY.get(v["why"], (v["why"],) * 2)[1],
    ),
    "evidence_not_kept": (
        lambda v: f"{v['detail']} ; preuves non conservées ({v['error']})",
        lambda v: f"{v['detail']}; evidence not kept ({v['error']})",
    ),
    "response_too_large": (
        lambda v: f"réponse de {v['url']} coupée au-delà de {v['limit']} octets "
                  "(limite de taille d'une page)",
        lambda v: f"answer from {v['url']} cut off past {v['limit']} bytes "
                  "(the page size limit)",
    ),
    "screenshot_cut": (
        lambda v: f"{v['detail']} ; capture d'écran réduite au haut de la page : "
                  f"{v['width']} × {v['height']} px sur {v['page_width']} × {v['page_height']}",
        lambda v: f"{v['detail']}; screenshot cut to the top of the page: "
                  f"{v['width']} × {v['height']} px of {v['page_width']} × {v['page_height']}",
    ),
}
# fmt: on
