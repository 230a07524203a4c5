# The two commands README.md names:
#   make run    set up a fresh machine and run the daemon on prefectures.yaml with SQLite
#   make test   set up and run every check: ruff, mypy --strict, alembic check, pytest
.PHONY: run test test-fast setup setup-dev lint typecheck migrations-check pytest demo bench bench-probes bench-db image-check compose-check clean

VENV := .venv/bin

run: setup
	$(VENV)/monitor db upgrade
	$(VENV)/monitor run

demo: setup
	$(VENV)/monitor demo

setup:
	scripts/system-packages.sh
	scripts/python-env.sh

setup-dev:
	scripts/system-packages.sh --test
	scripts/python-env.sh --dev

test: setup-dev lint typecheck migrations-check pytest

lint:
	$(VENV)/ruff format --check monitor tests bench
	$(VENV)/ruff check monitor tests bench

typecheck:
	$(VENV)/mypy --strict monitor

# The models and the migrations must describe the same schema.
migrations-check:
	rm -rf .ci-tmp && mkdir -p .ci-tmp
	MONITOR_DATABASE_URL=sqlite:///.ci-tmp/alembic-check.db $(VENV)/alembic upgrade head
	MONITOR_DATABASE_URL=sqlite:///.ci-tmp/alembic-check.db $(VENV)/alembic check
	rm -rf .ci-tmp

pytest:
	$(VENV)/pytest -q -p no:cacheprovider

# The unit tier only (tests/unit: pure, no I/O), in seconds; `make test` runs every tier.
test-fast:
	$(VENV)/pytest -q -p no:cacheprovider tests/unit

bench: setup-dev
	$(VENV)/python bench/run.py

# Issue 13: the probe engines against the bare floor and the peers, slot to alert, growth,
# memory (BENCHMARKS.md). Measurements, not tests: nothing here runs in `make test`.
# changedetection.io is compared only when bench/.venv-cd exists (see bench/changedetection.py).
bench-probes: setup-dev
	$(VENV)/python bench/probes.py --targets 40 --rounds 5
	if [ -x bench/.venv-cd/bin/python ]; then $(VENV)/python bench/changedetection.py --targets 40 --rounds 3; fi
	$(VENV)/python bench/alert_latency.py --events 30
	$(VENV)/python bench/growth.py --http-targets 100 --browser-targets 20 --rounds 5
	$(VENV)/python bench/memory.py --targets 100 --minutes 10
	$(VENV)/python bench/memory.py --targets 1000 --minutes 10

# History and stats on SQLite beside PostgreSQL (a throw-away server from the Debian binaries).
bench-db: setup-dev
	$(VENV)/python bench/reports_db.py --rows 1000000 --repeat 5

# Issue 31: build the image with podman and run it offline as users do (scripts/image-check.sh
# says what it checks). Needs root or sudo (podman from Debian) and about 3 GB of disk.
# It ends with compose.yaml run by podman-compose (scripts/podman/compose-check.sh);
# `make compose-check` runs that part alone, on the image a previous image-check built.
image-check:
	scripts/image-check.sh

compose-check:
	scripts/podman/compose-check.sh

clean:
	rm -rf .venv .ci-tmp var .mypy_cache .ruff_cache .pytest_cache
