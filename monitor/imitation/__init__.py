"""Local imitations of the prefecture booking sites, served on 127.0.0.x.

Tests never touch the internet: they probe these imitations. ``monitor demo`` runs one too.
Pages re-create the real sites' structure and short strings
(docs/platforms.md#the-local-imitation) with fictional ids; nothing here contacts an outside
service.

    ImitationSite   the server (server.py): scenarios per key, request log, admin endpoint
    CATALOGUE       every scenario with the outcome the monitor must report (catalogue.py)
    serve()         run one in the foreground (also ``python -m monitor.imitation``)
"""

from monitor.imitation.case import Case, expectation
from monitor.imitation.catalogue import CATALOGUE, install
from monitor.imitation.requestlog import LoggedRequest
from monitor.imitation.scenarios import FAULTS
from monitor.imitation.server import ImitationSite, serve

__all__ = [
    "CATALOGUE",
    "FAULTS",
    "Case",
    "ImitationSite",
    "LoggedRequest",
    "expectation",
    "install",
    "serve",
]
