# SLA Portal — the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_ENV := DEBUG=1 REQUIRE_TWO_FACTOR=0 DATABASE_URL=sqlite:///$(CURDIR)/var/demo.sqlite3 CELERY_BROKER_URL= EMAIL_URL=

.PHONY: demo test test-edges bench faults lint lock venv clean

venv: $(STAMP)

# The venv holds exactly what requirements.lock lists (pinned, with hashes); `make lock`
# refreshes the lock from the ranges in pyproject.toml.
$(STAMP): requirements.lock
	@# WeasyPrint's fast font subsetting (statement PDFs) needs Debian's libharfbuzz-subset0.
	@if command -v dpkg >/dev/null && ! dpkg -s libharfbuzz-subset0 >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libharfbuzz-subset0 >/dev/null; \
	  else echo "note: install libharfbuzz-subset0 (apt) for fast statement PDFs"; fi; \
	fi
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	touch $(STAMP)

lock:
	test -x $(VENV)/bin/pip-compile || { test -x $(PY) || $(PYTHON) -m venv $(VENV); $(PY) -m pip install --quiet pip-tools; }
	$(VENV)/bin/pip-compile --quiet --upgrade --extra dev --generate-hashes --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml

demo: venv
	mkdir -p var/mail
	$(DEMO_ENV) $(PY) manage.py migrate --no-input -v0
	$(DEMO_ENV) $(PY) manage.py load_sla_catalog
	$(DEMO_ENV) $(PY) manage.py setup_schedules
	$(DEMO_ENV) $(PY) manage.py demo
	@echo "Serving SLA Portal on http://127.0.0.1:8000/ (Ctrl-C to stop)"
	$(DEMO_ENV) $(PY) manage.py runserver 127.0.0.1:8000

# axe-core (npm registry), which the browser tests inject to check accessibility.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error && touch $(AXE); \
	else echo "note: npm not found; the browser tests' accessibility checks need axe-core"; fi

# The suite runs on every core (pytest-xdist), each worker with a test database and a
# var/tests/<worker>/ of its own; TEST_WORKERS=0 runs it in one process. (Not --dist
# loadfile: under it schemathesis runs none of its generated cases.)
TEST_WORKERS ?= auto
PYTEST := $(PY) -m pytest -n $(TEST_WORKERS) --dist load

test: venv $(AXE)
	$(VENV)/bin/lint-imports
	$(PYTEST)

# The date-sensitive tests (marker `edges`: the dashboards' month so far, the statements
# tick, escalations, credit expiry) once per instant below, in one run: each test's id
# names its instant (SLA_TEST_INSTANTS, tests/support/clock.py); `make test` runs them at
# its default instant (SLA_TEST_NOW).
#   2027-03-01T05:00:00Z  first second of March in New York (still February in Chicago)
#   2026-10-01T05:00:30Z  first minute of October in Chicago (01:00 in New York)
#   2026-07-01T03:59:30Z  last minute of June in New York (already July in UTC)
#   2026-03-08T07:30:00Z  US DST starts: 03:30 EDT in New York, 01:30 CST in Chicago
#   2026-11-01T06:30:00Z  US DST ends, and November's first hours: 01:30 EST (the
#                         second one) in New York, 01:30 CDT (the first) in Chicago
#   2028-02-29T12:00:00Z  29 February
#   2026-12-31T23:59:00Z  31 December 23:59 UTC (the evening in the Americas)
EDGE_INSTANTS := 2027-03-01T05:00:00Z 2026-10-01T05:00:30Z 2026-07-01T03:59:30Z \
  2026-03-08T07:30:00Z 2026-11-01T06:30:00Z 2028-02-29T12:00:00Z 2026-12-31T23:59:00Z

test-edges: venv $(AXE)
	SLA_TEST_INSTANTS="$(EDGE_INSTANTS)" $(PYTEST) -m edges -rp

bench: venv
	mkdir -p bench/results
	set -e; for script in bench/[!_]*.py; do $(PY) $$script; done

# Fault scenarios (bench/faults/): PostgreSQL, Redis, real workers and beats; each prints
# what it did and what it verified, and stops by itself. Restarts the PostgreSQL cluster.
FAULTS := kill_worker smtp_down smtp_killed_after_250 two_beats postgres_restart
faults: venv
	set -e; for scenario in $(FAULTS); do echo "== $$scenario"; $(PY) bench/faults/$$scenario.py; done

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis node_modules
