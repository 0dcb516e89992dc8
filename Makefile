# loaxa — `make demo` runs a whole commune on this machine; `make test` runs every check.
# Both install what is missing first: Debian packages (when root or sudo is available) and a local .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
APT_PACKAGES := mosquitto mosquitto-clients icecast2 espeak-ng ffmpeg mpg123 alsa-utils postgresql python3-venv chromium shellcheck \
	debootstrap apt-utils gnupg

.PHONY: help demo test lint unit system-deps venv clean deb

help:
	@echo "make demo   – install what is missing, seed the Tú Lệ demo commune, serve http://127.0.0.1:$${LOAXA_PORT:-8080}"
	@echo "make test   – install what is missing, then ruff, ruff format --check, mypy and the whole test suite"
	@echo "make deb    – build dist/loaxa-agent_VERSION_all.deb and dist/loaxa-controller_VERSION_ARCH.deb (then: loaxa apt publish dist/loaxa-agent_*.deb)"

system-deps:
	@missing=""; \
	for cmd in mosquitto icecast2 espeak-ng ffmpeg mpg123 aplay chromium shellcheck debootstrap apt-ftparchive gpg dpkg-deb; do command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$cmd"; done; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	$(PYTHON) -c "import venv, ensurepip" >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "Installing system packages (missing:$$missing)"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo"; \
	else echo "Missing:$$missing. Run: sudo apt-get install $(APT_PACKAGES)" >&2; exit 1; fi; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null; \
	if command -v systemctl >/dev/null 2>&1; then $$SUDO systemctl disable --now mosquitto icecast2 >/dev/null 2>&1 || true; fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: system-deps venv
	$(BIN)/loaxa demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest

# Two workers, one test file each at a time: most integration tests wait for a window to open, so the
# suite takes ~6 min on 2 cores instead of ~10 serially. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2

test: system-deps venv lint
	LOAXA_REQUIRE_POSTGRES=1 $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

deb: system-deps venv
	$(BIN)/python -m loaxa.make_deb --out dist

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
