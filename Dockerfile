# prefecture-monitor daemon: Debian's Chromium, a non-root user, data in /data.
FROM python:3.11-slim-bookworm

WORKDIR /app
COPY scripts/ scripts/
RUN scripts/system-packages.sh && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml constraints.txt README.md alembic.ini ./
COPY monitor/ monitor/
RUN scripts/python-env.sh
COPY prefectures.yaml ./

RUN useradd --system --create-home --home-dir /home/monitor monitor \
    && mkdir -p /data && chown monitor /data
USER monitor
VOLUME ["/data"]

ENV MONITOR_CONFIG=/app/prefectures.yaml \
    MONITOR_DATABASE_URL=sqlite:////data/monitor.db \
    MONITOR_BROWSER=/usr/lib/chromium/chromium-headless-shell \
    PATH=/app/.venv/bin:$PATH
# Evidence goes beside the database; override settings.evidence_dir in your own config.
WORKDIR /data

HEALTHCHECK --interval=5m --timeout=30s --start-period=2m \
    CMD ["monitor", "status", "--heartbeat"]

STOPSIGNAL SIGTERM
CMD ["monitor", "run", "--migrate"]
