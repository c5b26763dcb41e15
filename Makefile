# Two commands on a fresh machine: `make run` (the main job on the emulated lab) and `make test`.
# Both set everything up first: the Python venv, the npm Allure 3 report generator and the Debian
# packages the harness drives as interop peers (sip-tester = SIPp, snmp = net-snmp tools) and
# Chromium, the browser the tests look at the report with.

VENV ?= .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.hil-installed
NODE_STAMP := node_modules/.hil-installed
DEBIAN_PACKAGES := sip-tester snmp chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-packages run test lint bench clean

setup: system-packages $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json
	npm install --no-audit --no-fund --silent
	touch $@

system-packages:
	@missing=""; \
	for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

run: setup
	$(VENV)/bin/hil run

# The harness's own tests, in parallel (pytest-xdist): most of a test waits on a twin or a scenario run,
# so two workers per core and one more (at most 8), each on its own block of test networks from
# HIL_TEST_NET (tests/conftest.py). worksteal, not loadfile: a few files hold most of the time.
TEST_WORKERS ?= $(shell n=$$(( $$(nproc) * 2 + 1 )); [ $$n -gt 8 ] && n=8; echo $$n)

test: setup
	$(VENV)/bin/pytest tests -n $(TEST_WORKERS) --dist worksteal

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: setup
	$(PY) bench/snmp_firmware_audit.py
	$(PY) bench/switch_bench.py provision
	$(PY) bench/switch_bench.py audit
	$(PY) bench/sipp_bench.py
	$(PY) bench/interop_bench.py --runs 3
	$(PY) bench/firmware_bench.py --runs 3
	$(PY) bench/cloud_bench.py --runs 5

clean:
	rm -rf reports .hil .pytest_cache .mypy_cache .ruff_cache
