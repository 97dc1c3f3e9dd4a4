# passkeys: `make run` sets up and starts the service, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROTOS := $(shell find proto -name '*.proto' | sort)
GOOGLEAPIS := third_party/googleapis
PYTEST_ARGS ?=
FUZZ_EXAMPLES ?= 2000

.PHONY: setup run migrate test fuzz crash-test bench bench-peers bench-profile lint lint-proto generate web client-deps clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# gRPC on PASSKEYS_GRPC_ADDR and Envoy (REST, grpc-web) on PASSKEYS_HTTP_ADDR; Ctrl-C stops both.
run: setup
	$(BIN)/passkeys run

migrate: setup
	$(BIN)/passkeys migrate

lint: setup lint-proto
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

lint-proto: setup
	$(BIN)/buf lint
	$(BIN)/buf build -o /dev/null

test: setup lint client-deps bench-peers
	$(PY) -m pytest $(PYTEST_ARGS)

# ZITADEL's JavaScript clients for tests/clients, pinned by its package-lock.json; installed again
# only when the lock file changes (so later runs need no network).
client-deps: tests/clients/node_modules/.package-lock.json

tests/clients/node_modules/.package-lock.json: tests/clients/package-lock.json
	cd tests/clients && npm ci --no-audit --no-fund --prefer-offline
	touch $@

# The hostile-input fuzz tests, longer than in `make test` and with new random examples each run:
# FUZZ_EXAMPLES per mutation layer on SQLite, a quarter of that on PostgreSQL.
fuzz: setup
	PASSKEYS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) PASSKEYS_FUZZ_DERANDOMIZE=0 $(PY) -m pytest tests/service/test_fuzz.py $(PYTEST_ARGS)

# More kill -9 rounds than `make test` runs (2 per backend): make crash-test CRASHES=25
CRASHES ?= 10
crash-test: setup
	PASSKEYS_TEST_CRASHES=$(CRASHES) $(PY) -m pytest tests/service/test_crash.py -q -s

# Verifies per second, latency and memory against the bare library and the endpoints a user
# would write by hand (bench/run.py; ~6 min; BENCH_QUICK=1 for a tiny run). Prints the tables
# and writes them to bench/results.md.
bench: setup bench-peers
	PYTHONPATH=. $(PY) -m bench.run

# Where a verify's CPU goes inside the running server: py-spy and per-thread CPU under load.
bench-profile: setup bench-peers
	PYTHONPATH=. $(PY) -m bench.profile_server

# The peers of bench/peers: the Python one's packages (pyproject's `bench` extra) and the Node
# one's (npm ci from the lock file; better-sqlite3 compiles against the machine's Node, ~1 min).
BENCH_STAMP := $(VENV)/.bench-installed
NODE_PEER_STAMP := bench/peers/node/node_modules/.installed
bench-peers: $(BENCH_STAMP) $(NODE_PEER_STAMP)

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $@

$(NODE_PEER_STAMP): bench/peers/node/package-lock.json
	cd bench/peers/node && npm ci --no-audit --no-fund
	touch $@

# Python stubs for our protos, and the descriptor sets Envoy's transcoder reads (package data of
# passkeys): the full one, with every type the server puts in status details (google.rpc.ErrorInfo
# and zitadel.v1.ErrorDetail, so REST error bodies can print them), and one without REST bindings
# for the Connect route.
generate: setup
	rm -rf generated && mkdir -p generated
	$(PY) -m grpc_tools.protoc -I proto -I $(GOOGLEAPIS) \
		--python_out=generated --pyi_out=generated --grpc_python_out=generated $(PROTOS)
	$(PY) -m grpc_tools.protoc -I proto -I $(GOOGLEAPIS) --include_imports \
		--descriptor_set_out=src/passkeys/descriptor.pb \
		$(PROTOS) google/rpc/status.proto google/rpc/error_details.proto
	$(PY) tools/grpc_path_descriptor.py src/passkeys/descriptor.pb src/passkeys/descriptor-grpc-paths.pb \
		src/passkeys/rest-bindings.json

# The page's script: JavaScript messages from our protos (protoc-gen-es), then one bundle with
# Connect's grpc-web client (esbuild). Both outputs are committed: tests and `make run` need no npm.
web: setup
	cd web && npm ci --no-audit --no-fund
	rm -rf web/gen
	$(BIN)/buf generate --template web/buf.gen.yaml --path proto/zitadel --path proto/passkeysapi --path $(GOOGLEAPIS)/google
	cd web && npm run bundle

clean:
	rm -rf $(VENV) data generated/__pycache__ bench/peers/node/node_modules
