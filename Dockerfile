# prefecture-monitor daemon: Debian's Chromium headless shell, a non-root user (uid/gid
# 10001), database, evidence and node name in the volume /data. README.md, "Docker".
#   podman build --format docker -t prefecture-monitor .     (docker build -t … . alike)
# --format docker keeps the HEALTHCHECK (podman's default OCI format has none).
# Build args: BASE (a Python 3.11 on Debian bookworm), WITH_CHROMIUM=1 (also Debian's full
# chromium, the engine's fall-back: 510 MB more), UID/GID.
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

ARG WITH_CHROMIUM=0

WORKDIR /app

# 1. Debian packages: the one script the host and CI use too, without recommends.
COPY scripts/system-packages.sh scripts/
RUN if [ "$WITH_CHROMIUM" = 1 ]; then scripts/system-packages.sh --no-recommends; \
    else scripts/system-packages.sh --headless-shell-only --no-recommends; fi \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

# 2. Python dependencies, pinned by constraints.txt (pip and the build backend too), in a
#    layer of their own: a change to the code alone does not reinstall them.
COPY pyproject.toml constraints.txt ./
RUN python3 -m venv .venv \
    && .venv/bin/pip install -q --no-cache-dir --disable-pip-version-check \
        -c constraints.txt pip setuptools wheel \
    && .venv/bin/python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["cluster"]))' \
        > /tmp/requirements.txt \
    && .venv/bin/pip install -q --no-cache-dir --disable-pip-version-check \
        -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# 3. The code, without its dependencies (installed above).
COPY README.md ./
COPY monitor/ monitor/
RUN .venv/bin/pip install -q --no-cache-dir --disable-pip-version-check \
        --no-deps --no-build-isolation . \
    && rm -rf build monitor prefecture_monitor.egg-info

# The default configuration, its database and evidence in /data. A mounted config's
# settings.database is used as written; $MONITOR_DATABASE_URL, when set, overrides it.
COPY prefectures.yaml ./
RUN sed -i -e 's|^  database: sqlite:///var/monitor.db |  database: sqlite:////data/monitor.db |' \
        -e 's|^  evidence_dir: var/evidence$|  evidence_dir: /data/evidence|' prefectures.yaml \
    && grep -q '^  database: sqlite:////data/monitor.db ' prefectures.yaml \
    && grep -q '^  evidence_dir: /data/evidence$' prefectures.yaml
COPY deploy/image-entry.sh /usr/local/bin/image-entry

# Declared here, so that another uid rebuilds only what follows.
ARG UID=10001
ARG GID=10001
RUN groupadd --gid "$GID" monitor \
    && useradd --uid "$UID" --gid "$GID" --create-home --home-dir /home/monitor \
        --shell /usr/sbin/nologin monitor \
    && mkdir -p /data && chown "$UID:$GID" /data
USER monitor
VOLUME ["/data"]

ENV MONITOR_CONFIG=/app/prefectures.yaml \
    MONITOR_BROWSER=/usr/lib/chromium/chromium-headless-shell \
    PATH=/app/.venv/bin:$PATH
# Relative paths in a mounted config are relative to /data.
WORKDIR /data

HEALTHCHECK --interval=5m --timeout=30s --start-period=2m \
    CMD ["monitor", "status", "--heartbeat"]

# SIGTERM: the daemon finishes its probes in flight and stops. Give it 40 s, not Docker's
# default 10 (`--stop-timeout 40`, compose's `stop_grace_period: 40s`): killed sooner, it
# exits 137 and leaves its heartbeat row behind.
STOPSIGNAL SIGTERM
# Sets $MONITOR_NODE from /data/node-name (created once), then runs the command.
ENTRYPOINT ["image-entry"]
CMD ["monitor", "run", "--migrate"]
