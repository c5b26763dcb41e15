# Two commands on a fresh machine: `make run` (the main job on the emulated lab) and `make test`.
# Both set everything up first: the Python venv, the npm Allure 3 report generator and the Debian
# packages the harness drives as interop peers (sip-tester = SIPp, snmp = net-snmp tools, snmpd =
# net-snmp agent, baresip-core = a SIP user agent, kamailio = a SIP proxy, dnsmasq-base = a DHCP and
# DNS server, coturn = an RFC 5780 STUN server, chrony = an NTP server: the tests run their own, in the
# foreground, on their own loopback addresses) and Chromium, the browser the tests look at the report
# with. chrony's package starts a system chronyd where systemd runs (it keeps this host's clock; with
# Debian's configuration it serves no NTP clients and binds no port the tests use).

VENV ?= .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.hil-installed
NODE_STAMP := node_modules/.hil-installed
DEBIAN_PACKAGES := sip-tester snmp snmpd baresip-core kamailio dnsmasq-base coturn chrony chromium
# peers whose Debian package starts a system service on install: set-up stops a service it installed
# itself (the tests run their own, on their own addresses; a system one would hold port 5060 or 161)
PEER_SERVICES := snmpd kamailio
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
	  for s in $(PEER_SERVICES); do \
	    case " $$missing " in *" $$s "*) \
	      if command -v systemctl >/dev/null && systemctl is-enabled --quiet $$s 2>/dev/null; then \
	        echo "stopping the $$s service Debian started at install (the tests run their own)"; \
	        $(SUDO) systemctl disable --now $$s >/dev/null 2>&1 || true; \
	      fi;; \
	    esac; \
	  done; \
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
