.DEFAULT_GOAL := help
PYTHON ?= python3

.PHONY: help
help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: install
install: ## Build the extension in release mode and install the package with its test extra
	$(PYTHON) -m pip install ".[test]"

.PHONY: format
format: ## Format Rust and Python sources
	cargo fmt --all
	$(PYTHON) -m ruff format python tests benchmarks
	$(PYTHON) -m ruff check --fix python tests benchmarks

.PHONY: lint
lint: ## Check formatting and lints of Rust and Python sources
	cargo fmt --all -- --check
	cargo clippy --all-targets --all-features -- -D warnings
	$(PYTHON) -m ruff check python tests benchmarks
	$(PYTHON) -m ruff format --check python tests benchmarks

.PHONY: test-rust
test-rust: ## Rust core tests (no Python needed)
	cargo test --release -p nswg

.PHONY: test
test: install ## Python tests against the installed package
	$(PYTHON) -m pytest

.PHONY: bench
bench: ## The main job on the shipped data: accuracy versus distance computations
	$(PYTHON) -m nswg bench

.PHONY: ci
ci: ## What CI runs
	bash .ci/run
