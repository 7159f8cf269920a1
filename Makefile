# 立业案场客户信息平台 — the README's commands.
#   make run    set up everything, then serve the web client on http://127.0.0.1:8000
#   make test   set up everything, then run every test (last line: pytest's summary)
#   make setup  the set-up alone (safe to run again)
#   make bench  the benchmarks of bench/ on the small dataset
#               (SIZE=large make bench: 1M customer groups; see bench/README.md)
SHELL := /bin/bash
export LIEYE_PORT ?= 8000

.PHONY: setup run test bench lint

setup:
	@scripts/setup.sh

run: setup
	@scripts/run.sh

test: setup
	@scripts/test.sh

bench: setup
	@bench/run

lint:
	@.venv/bin/pre-commit run --all-files
