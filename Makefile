# Berth: the two commands that matter are `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed

.PHONY: run test unit e2e lint crds image bench write-costs chaos fuzz binaries clean
.PHONY: cli-bench

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q uv==0.13.9
	$(UV) pip sync -q --python $(PY) requirements.lock
	$(UV) pip install -q --python $(PY) --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

binaries:
	@devcluster/node-deps.sh
	@devcluster/build.sh
	@devcluster/addons/build.sh >/dev/null
	@devcluster/helm/build.sh >/dev/null
	@devcluster/ingress/build.sh >/dev/null
	@devcluster/kstatus/build.sh >/dev/null
	@devcluster/metrics-server/build.sh >/dev/null
	@devcluster/prometheus/build.sh >/dev/null
	@devcluster/registry/build.sh >/dev/null
	@devcluster/hello-tls/build.sh >/dev/null

run: $(STAMP)
	$(PY) -m devcluster.run

test: $(STAMP) lint binaries
	$(PY) -m pytest -q tests

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

e2e: $(STAMP) binaries
	$(PY) -m pytest -q tests/e2e

lint: $(STAMP)
	$(VENV)/bin/ruff check operator devcluster tests bench
	$(VENV)/bin/ruff format --check operator devcluster tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

crds: $(STAMP)
	$(PY) -m berth.generate

# The operator's OCI image archive in .berth/images/, from pinned Debian packages and the lock.
image: $(STAMP)
	$(PY) -m devcluster.operator_image

bench: $(STAMP) binaries
	$(PY) -m bench.run $(if $(BENCH_N),--n $(BENCH_N),) $(if $(BENCH_PEERS),--peers $(BENCH_PEERS),) $(if $(BENCH_ONLY_PEERS),--only-peers,)

write-costs: $(STAMP) binaries
	$(PY) -m bench.write_costs

chaos: $(STAMP) binaries
	$(PY) -m bench.chaos

fuzz: $(STAMP) binaries
	$(PY) -m bench.fuzz

# Start-to-exit time of each `berth` command (median, p90), and the slowest imports.
cli-bench: $(STAMP) binaries
	$(PY) -m bench.cli_start --importtime $(if $(BENCH_N),--runs $(BENCH_N),)

clean:
	rm -rf $(VENV) .berth
