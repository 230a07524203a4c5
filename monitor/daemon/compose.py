"""The composition root: builds every part of a daemon and hands them to :class:`Daemon`.

What is built here and nowhere else: the engines, the probe step and the recorder
(:class:`monitor.daemon.components.Components`, replaceable by tests), the notification
loop and its dispatcher, the politeness gate, the own-fault guard, the health reporter,
the housekeeping, the runner, the status-page publisher, the learned targets' week plans
(shared by the daemon and a fleet node's tick) and the schedule (APScheduler in
this process, or a fleet node's procrastinate worker). One clock is handed to the daemon,
the runner, the gate, the guard, the notification loop and the fleet's tick (the health
reporter's events and the housekeeping's timers still read the machine's). The config in
force is a :class:`CurrentConfig` that the daemon updates on reload, so the parts that read
it later (the publisher) never need the daemon itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.assist.desk import AssistDesk, DeskParts
from monitor.config import Config
from monitor.daemon.clock import SYSTEM_CLOCK, Clock
from monitor.daemon.cluster import FleetSchedule
from monitor.daemon.components import Components, CurrentConfig, make_dispatcher
from monitor.daemon.health import HealthReporter, OwnFaultGuard, connectivity_check_for
from monitor.daemon.housekeeping import Housekeeping
from monitor.daemon.jobs import guard_window
from monitor.daemon.notifying import NotificationLoop
from monitor.daemon.plans import PlanBook
from monitor.daemon.politeness import Politeness
from monitor.daemon.runner import ProbeRunner
from monitor.daemon.schedule import EmbeddedSchedule, Schedule
from monitor.daemon.scheduler import AfterProbes, Daemon, Served
from monitor.store import Repository

__all__ = ["CurrentConfig", "build_daemon"]


def build_daemon(
    config: Config,
    repository: Repository,
    *,
    node: str,
    reload_config: Callable[[], Config],
    once: bool = False,
    cluster_url: str | None = None,
    publish_dir: Path | None = None,
    publisher: AfterProbes | None = None,
    components: Components | None = None,
    schedule: Schedule | None = None,
    clock: Clock = SYSTEM_CLOCK,
    status_page_url: str | None = None,
) -> Daemon:
    """A daemon on ``repository`` for ``config``, its parts built here.

    ``cluster_url``: a fleet node (its schedule is procrastinate's, unless ``once``);
    ``publish_dir``: the status page regenerated there after probes (``publisher``: another
    one); ``components``, ``schedule`` and ``clock`` replace the real ones (tests). Given
    components keep their dispatcher across reloads; the default one is rebuilt for new
    channels. With ``assist: true`` targets, the assisted sessions' desk and the operator
    console over it (``status_page_url``: the public status page, linked from its pages).
    """
    current = CurrentConfig(config)
    settings = config.settings
    parts = components or Components.default(config, repository, node)
    remake = None if components is not None else lambda c: make_dispatcher(repository, c, node)
    politeness = Politeness(
        per_host_concurrency=settings.politeness.per_host_concurrency,
        per_host_min_gap=settings.politeness.per_host_min_gap.total_seconds(),
        clock=clock.monotonic,
        sleep=clock.sleep,
    )
    guard = OwnFaultGuard(
        check=connectivity_check_for(settings), window=guard_window(config), clock=clock.monotonic
    )
    health = HealthReporter(repository, config, node, per_node=cluster_url is not None)
    housekeeping = Housekeeping(
        repository,
        node,
        started_at=clock.now(),
        forget_after=settings.fleet.forget_after,
        slot_clock=clock.now,
    )
    runner = ProbeRunner(
        repository=repository,
        config=config,
        politeness=politeness,
        guard=guard,
        health=health,
        engines=parts.engines,
        node=node,
        observe=parts.observe,
        record=parts.record,
        clock=clock,
    )
    plans = PlanBook(repository, clock=clock)
    if schedule is None:
        if cluster_url is not None and not once:
            fleet = FleetSchedule(config, repository, cluster_url, node, clock=clock, plans=plans)
            politeness.fleet = fleet.host_locks
            schedule = fleet
        else:
            schedule = EmbeddedSchedule()
    if publisher is None and publish_dir is not None:
        from monitor.publish.refresh import refresher_for  # the page's templates: only if asked

        gap = settings.publish.min_gap.total_seconds()
        publisher = refresher_for(current, repository, publish_dir, min_gap=gap)
    notifying = NotificationLoop(parts.dispatcher, remake, clock=clock)
    desk = None
    console: Served | None = None
    if not once and any(target.assist for target in config.targets()):
        after = publisher

        def written() -> None:
            notifying.poke()
            if after is not None:
                after.poke()

        desk = AssistDesk(
            DeskParts(
                config=current,
                store=repository,
                engines=parts.engines,
                politeness=politeness,
                record=parts.record,
                clock=clock,
                node=node,
                on_written=written,
                console_url=lambda: served.url,
            )
        )
        served = _console(desk, config, node, clock, status_page_url)
        console = served
    return Daemon(
        config=current,
        reload_config=reload_config,
        node=node,
        runner=runner,
        politeness=politeness,
        guard=guard,
        health=health,
        housekeeping=housekeeping,
        notifying=notifying,
        engines=parts.engines,
        schedule=schedule,
        publisher=publisher,
        plans=plans,
        desk=desk,
        console=console,
        clock=clock,
        once=once,
    )


def _console(
    desk: AssistDesk, config: Config, node: str, clock: Clock, status_page_url: str | None
) -> Served:
    """The operator console over ``desk``, served where ``settings.console.listen`` says.

    Imported here, only for a daemon with assisted targets (which needs settings.console:
    the config refuses ``assist: true`` without it), so that no other command pays for
    Starlette and uvicorn."""
    from monitor.console.app import build_console
    from monitor.console.server import ConsoleServer

    settings = config.settings
    assert settings.console is not None  # checked by the config (assist needs a console)
    app = build_console(
        desk,
        token=settings.console.token,
        node=node,
        status_page_url=status_page_url,
        now=clock.now,
        zone=ZoneInfo(settings.timezone),
    )
    return ConsoleServer(app, settings.console.listen)
