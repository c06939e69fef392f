# `make run` and `make test` each set everything up from a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
REQUIREMENTS := requirements.txt requirements-cluster.txt requirements-postgres.txt requirements-dev.txt
STAMP := $(VENV)/.installed-$(shell cat $(REQUIREMENTS) | cksum | cut -d' ' -f1)
DEBIAN_DATA := /usr/share/datasets/fashion-mnist
PORT ?= 8501

.PHONY: run test test-quick lint bench precompute dataset browser services replicas clean catalogs extract-texts

$(STAMP): $(REQUIREMENTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

# Fashion-MNIST from Debian's package where we can (root + apt); otherwise the app
# falls back to FMNIST_DATA_DIR or torchvision's download and says how.
dataset:
	@if [ -d $(DEBIAN_DATA) ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; \
	else echo "note: cannot apt-get install dataset-fashion-mnist here; set FMNIST_DATA_DIR or allow torchvision to download"; fi

# Debian's Chromium for the browser test (Playwright's own browser download does not work offline).
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "note: no chromium; the browser test will be skipped"; fi

# The teacher's link first (the code is made at the first start and kept under FMNIST_HOME), as Jupyter prints its token.
# Debian's PostgreSQL and nginx for the school deployment's tests (the suite starts its own servers; nothing runs as
# a system service). Elsewhere those tests skip themselves.
services:
	@if [ -x /usr/lib/postgresql/15/bin/initdb ] && command -v nginx >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql nginx; \
	else echo "note: no PostgreSQL or nginx; the tests of several app processes will be skipped"; fi

run: $(STAMP) dataset catalogs
	$(PY) -m fmnist_core teacher-link --port $(PORT)
	$(PY) -m streamlit run app.py --server.port $(PORT)

lint: $(STAMP)
	$(PY) -m ruff check .

# The suite runs in a network namespace of its own with only the loopback interface (root, `unshare -n`): the
# Ray cluster tests then bind 127.0.0.1 and nothing leaves this machine. Elsewhere it runs as is and the
# cluster tests skip themselves.
LOOPBACK_ONLY := unshare -n sh -c 'ip link set lo up && exec "$$0" "$$@"'

test: $(STAMP) dataset browser services lint catalogs
	@if [ "$$(id -u)" = 0 ] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then \
		$(LOOPBACK_ONLY) $(PY) -m pytest -q -n 2 --dist loadfile; \
	else $(PY) -m pytest -q -n 2 --dist loadfile; fi

# The quick part: no real browser, no cluster, no slow tests (under a minute).
test-quick: $(STAMP) dataset catalogs  # the unit and AppTest part, two processes (one per core of a CI machine)
	$(PY) -m pytest -q -n 2 -m "not slow and not browser and not cluster"

# The texts' catalogues (Babel): extract-texts writes locale/messages.pot from fmnist_ui/texts.py and updates every
# language's .po from it (new texts arrive untranslated, and the catalogue test says which); catalogs compiles the
# .mo files the app reads.
BABEL := PYTHONPATH=. $(VENV)/bin/pybabel
extract-texts: $(STAMP)
	$(BABEL) extract -F babel.cfg --no-default-keywords -k pgettext:1c,2 -k npgettext:1c,2,3 --omit-header \
		--sort-by-file --width 116 -o locale/messages.pot .
	$(BABEL) update -i locale/messages.pot -d locale -D messages --width 116 --ignore-obsolete --no-fuzzy-matching

catalogs: $(STAMP)
	$(BABEL) compile -d locale -D messages --statistics

# The school's topology on this machine: PostgreSQL, 3 app processes and nginx (deploy/topology.py), until Ctrl+C.
replicas: $(STAMP) dataset services catalogs
	$(PY) deploy/topology.py --replicas 3 --port 8080

bench: $(STAMP) dataset
	$(PY) -m fmnist_core bench

precompute: $(STAMP) dataset
	$(PY) -m fmnist_core precompute

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
