# The two commands README.md names:
#   make run    set up a fresh machine and run the daemon on prefectures.yaml with SQLite
#   make test   set up and run every check: ruff, mypy --strict, alembic check, pytest
.PHONY: run test setup setup-dev lint typecheck migrations-check pytest demo bench clean

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

bench: setup-dev
	$(VENV)/python bench/run.py

clean:
	rm -rf .venv .ci-tmp var .mypy_cache .ruff_cache .pytest_cache
