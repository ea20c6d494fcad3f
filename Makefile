.PHONY: run test lint format bench fuzz

run:  ## the API on http://127.0.0.1:8000 with the local event bridge and WebSocket gateway (:8001)
	bash scripts/run.sh

test:  ## the whole test suite against real PostgreSQL, Redis and S3
	bash scripts/test.sh $(PYTEST_ARGS)

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

fuzz:  ## schemathesis against the local stack, bounded (FUZZ_MAX_TIME seconds; FUZZ_ARGS=--ci for CI's short run)
	bash scripts/fuzz.sh $(FUZZ_ARGS)
