# CityGrid: two commands. `make run` serves the demo city; `make test` runs the test suite.
# `make lint`: ruff (format and check) and lint-imports (the import rules in pyproject.toml).
.PHONY: run test install services stop lint bench-locate

install:
	@scripts/install.sh

run: install
	@scripts/run.sh

test: install
	@scripts/test.sh $(PYTEST_ARGS)

services: install
	@scripts/services.sh start

stop:
	@scripts/services.sh stop

lint: install
	.venv/bin/ruff format --check core accounts spatial geocoder tiles cases tracking evaluation data web tests
	.venv/bin/ruff check core accounts spatial geocoder tiles cases tracking evaluation data web tests
	.venv/bin/lint-imports

bench-locate: install
	.venv/bin/python bench/locate.py --points 10000 --http
