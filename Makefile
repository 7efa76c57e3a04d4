# Cross-provincial oversize/overweight transport permits: build, run, test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SITE = $(shell $(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
CONTEXTS := identity application routing documents approval notifications
PROTOS := $(shell find protos -name '*.proto' 2>/dev/null)
PYTEST_ARGS ?=

WEB_SOURCES := $(filter-out web/src/api/schema.d.ts,$(shell find web/src web/public -type f 2>/dev/null)) web/index.html web/openapi.json web/vite.config.ts web/tsconfig.json web/package.json web/scripts/size.mjs

.PHONY: install protos proto-deps proto-baseline web web-deps web-test openapi-snapshot token demo run import test test-unit test-integration test-e2e test-faults soak lint bench migrate clean up down

install: $(VENV)/.installed

# uv installs the same pinned requirements several times faster than pip; it is
# bootstrapped into the venv with pip once (the version pinned in requirements-dev.txt).
# Bytecode is compiled at install time, so the first start of six services does not.
UV := $(VENV)/bin/uv
UV_PIN = $(shell grep -E '^uv==' requirements-dev.txt)

# The venv is made without pip (ensurepip alone takes seconds); the system's pip puts uv
# into it, or, where the system Python has no pip (or one older than 22.3), ensurepip does.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv --without-pip $(VENV)
	test -x $(UV) || $(PYTHON) -m pip --python $(PY) install -q --disable-pip-version-check "$(UV_PIN)" 2>/dev/null \
	  || { $(PY) -m ensurepip -q && $(PY) -m pip install -q --disable-pip-version-check "$(UV_PIN)"; }
	$(UV) pip install -q --compile-bytecode --python $(PY) -r requirements-dev.txt
	$(PY) -c 'import sys, sysconfig; open(sysconfig.get_paths()["purelib"] + "/permit-workspace.pth", "w").write("\n".join(sys.argv[1:]) + "\n")' \
	  $(CURDIR)/gen/python $(CURDIR)/libs/permitkit $(CURDIR)/services/gateway $(CURDIR)/scripts \
	  $(foreach c,$(CONTEXTS),$(CURDIR)/services/$(c))
	touch $@

protos: gen/python/.stamp

gen/python/.stamp: $(VENV)/.installed $(PROTOS)
	rm -rf gen/python.tmp && mkdir -p gen/python.tmp
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m grpc_tools.protoc -Iprotos -I$(SITE) \
	  --python_out=gen/python.tmp --grpc_python_out=gen/python.tmp \
	  --mypy_out=gen/python.tmp --mypy_grpc_out=gen/python.tmp $(PROTOS)
	find gen/python.tmp/permit -type d -exec touch {}/__init__.py \;
	rm -rf gen/python && mv gen/python.tmp gen/python
	touch $@

# googleapis protos for buf, copied from the googleapis-common-protos wheel (offline).
proto-deps: $(VENV)/.installed
	rm -rf gen/third_party && mkdir -p gen/third_party
	cd $(SITE) && for f in google/api/*.proto google/type/*.proto google/rpc/*.proto; do \
	  mkdir -p $(CURDIR)/gen/third_party/$$(dirname $$f) && cp $$f $(CURDIR)/gen/third_party/$$f; done

migrate: protos
	for c in $(CONTEXTS); do $(PY) -m permit_$$c migrate || exit 1; done

# The 掌上办 pages (web/): npm ci when the lockfile changed, the build when a source changed.
web-deps: web/node_modules/.installed

web/node_modules/.installed: web/package-lock.json
	npm --prefix web ci --no-audit --no-fund --loglevel=error
	touch $@

web: web/dist/index.html

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	npm --prefix web run build

web-test: web-deps
	npm --prefix web test

# The gateway's OpenAPI document as the web pages' API types are generated from it.
openapi-snapshot: protos
	$(PY) scripts/dump_openapi.py web/openapi.json

# The Python side (venv, protos) and the pages (npm ci, build) are prepared side by side.
run:
	$(MAKE) --no-print-directory -j2 protos web
	$(PY) scripts/devstack.py

# With `make run` going in another terminal: the whole permit journey over HTTP, step by step.
demo:
	@$(PY) scripts/walkthrough.py

# The PC system's export into the running services, as a repeatable sync (PC-3):
# FILE=export.json | export.csv | export.xlsx (several CSV files: FILE="accounts.csv vehicles.csv ...").
# The services are found at IDENTITY_SERVICE_ADDR, APPLICATION_SERVICE_ADDR, APPROVAL_SERVICE_ADDR
# (default: the ports of `make run`). Prints the operator's report.
FILE ?=
import: protos
	@test -n "$(FILE)" || { echo "usage: make import FILE=export.json|export.csv|export.xlsx" >&2; exit 2; }
	$(PY) -m permit_sync $(FILE)

# Print an access token for a demo persona of a running `make run` (AS=carrier|person|newcomer|hebei-accept|...).
AS ?= carrier
token:
	@$(PY) scripts/devstack.py token $(AS)

test: protos web-test web
	bash scripts/test.sh $(PYTEST_ARGS)

test-unit: protos
	$(PY) -m pytest -q -m "not integration and not e2e" $(PYTEST_ARGS)

test-integration: protos
	bash scripts/test.sh -m integration $(PYTEST_ARGS)

test-e2e: protos web
	bash scripts/test.sh -m e2e $(PYTEST_ARGS)

# Kill, stop or cut one part of the started system at a time (also part of `make test`).
test-faults: protos
	PYTEST_WORKERS=1 bash scripts/test.sh -m faults tests/faults $(PYTEST_ARGS)

# The released contracts `buf breaking` compares against (protos/buf-image.binpb).
PROTO_BASELINE := protos/buf-image.binpb

lint: protos proto-deps
	$(PY) -m ruff check .
	$(PY) -m mypy libs/permitkit/permitkit
	test -x node_modules/.bin/buf || npm install --no-audit --no-fund
	npx --no-install buf lint
	npx --no-install buf build --exclude-source-info -o gen/buf-image.binpb
	npx --no-install buf breaking gen/buf-image.binpb --against $(PROTO_BASELINE)

# On a release (or a deliberate, reviewed break of a v1 contract, in the same
# change): record the current contracts as the baseline `make lint` checks.
proto-baseline: proto-deps
	test -x node_modules/.bin/buf || npm install --no-audit --no-fund
	npx --no-install buf build --exclude-source-info -o $(PROTO_BASELINE)

# BENCH_SCALE=national (default: bulk-loads 1,000,000 applications, a few minutes
# more) | small | none. Not part of `make test`.
BENCH_SCALE ?= national
bench: protos
	BENCH_SCALE=$(BENCH_SCALE) $(PY) -m tests.bench.run
	@if [ -f tests/bench/bench_routing.py ]; then $(PY) tests/bench/bench_routing.py; fi

# Steady load at half the measured capacity for SOAK_SECONDS (default 180); fails when a
# process's memory grows more than 5 % (tests/soak/run.py --help).
SOAK_SECONDS ?= 180
soak: protos
	SOAK_SECONDS=$(SOAK_SECONDS) $(PY) -m tests.soak.run

# Needs a Docker engine (not available on every machine): the compose stack of deploy/.
up:
	docker compose -f deploy/compose.yaml up --build -d

down:
	docker compose -f deploy/compose.yaml down

clean:
	rm -rf gen var .pytest_cache
