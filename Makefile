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
	$(PYTHON) -m ruff format python tests benchmarks build-backend docs .ci
	$(PYTHON) -m ruff check --fix python tests benchmarks build-backend docs .ci

.PHONY: lint
lint: ## Check formatting and lints of Rust and Python sources
	cargo fmt --all -- --check
	cargo clippy --all-targets --all-features -- -D warnings
	$(PYTHON) -m ruff check python tests benchmarks build-backend docs .ci
	$(PYTHON) -m ruff format --check python tests benchmarks build-backend docs .ci

.PHONY: test-rust
test-rust: ## Rust core tests (no Python needed)
	cargo test --release -p nswg

.PHONY: test
test: install ## Python tests against the installed package
	$(PYTHON) -m pytest

.PHONY: docs
docs: ## The API reference and guides, as HTML in docs/_build/html (a warning fails the build)
	$(PYTHON) -m pip install ".[docs]"
	$(PYTHON) -m sphinx -E -W --keep-going -b html docs docs/_build/html

.PHONY: wheel
wheel: ## The abi3 wheel and the sdist, in dist/
	$(PYTHON) -m pip install --quiet build
	$(PYTHON) -m pip wheel . --no-deps --wheel-dir dist
	$(PYTHON) -m build --sdist --outdir dist .

.PHONY: bench
bench: ## The main job on the shipped data: accuracy versus distance computations
	$(PYTHON) -m nswg bench

.PHONY: ci
ci: ## What CI runs
	bash .ci/run
