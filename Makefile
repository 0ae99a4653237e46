# Two commands matter: `make run` and `make test`. Each sets up everything it needs on a
# fresh Debian 12 machine: Debian packages (as root), the virtual environment, the package.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SHARED_MEDIA ?= ../shared/media

# What Qt needs offscreen, what Xvfb runs need, and a real Secret Service for keychain tests.
DEB_PACKAGES := libpulse0 libegl1 libgl1 libfontconfig1 libxkbcommon0 fonts-dejavu-core \
	libdbus-1-3 xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 \
	gnome-keyring dbus dbus-user-session curl

.PHONY: run test lint typecheck pytest deps system-deps sandbox demo screenshots clean \
	bench bench-upload bench-upload-gui bench-ui bench-queue bench-startup bench-sandbox

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed as '$(PYTHON)' (set PYTHON=...)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

deps: system-deps $(STAMP)

system-deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing Debian packages: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null \
				|| { echo "apt-get install failed for: $$missing"; exit 1; }; \
		else \
			echo "Missing Debian packages (install them as root): $$missing"; exit 1; \
		fi; \
	fi

# The window against the built-in sandbox; with no display at all, the CLI demo instead.
run: deps
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] || [ "$$QT_QPA_PLATFORM" = offscreen ]; then \
		$(PY) -m chamelaion_desktop --sandbox; \
	else \
		echo "No display here: running the command-line demo against the sandbox instead."; \
		$(PY) -m chamelaion_desktop.demo --media $(SHARED_MEDIA); \
	fi

demo: deps
	$(PY) -m chamelaion_desktop.demo --media $(SHARED_MEDIA)

test: deps lint typecheck pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	QT_QPA_PLATFORM=offscreen QT_LOGGING_RULES="qt.multimedia.*=false" $(PY) -m pytest -m "not keychain"
	QT_QPA_PLATFORM=offscreen QT_LOGGING_RULES="qt.multimedia.*=false" \
		scripts/with-keyring.sh $(PY) -m pytest -m keychain tests/keychain

# PNGs of the window under Xvfb, for the README and for looking at what we build.
screenshots: deps
	xvfb-run -a -s "-screen 0 1440x900x24" $(PY) scripts/screenshots.py docs/screenshots

sandbox: $(STAMP)
	$(PY) -m chamelaion_desktop.sandbox --port 8787 --data-dir .sandbox-data

# Benchmarks print figures and ratios against references measured in the same run; each
# ends with one JSON line, and `make bench` ends with one JSON object holding them all.
bench: deps
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/run_all.py --json bench-out/bench.json

bench-upload: deps
	$(PY) benchmarks/bench_upload.py

bench-upload-gui: deps
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_upload_gui.py

bench-ui: deps
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_ui.py

bench-queue: deps
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_queue.py

bench-startup: deps
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_startup.py

bench-sandbox: deps
	$(PY) benchmarks/bench_sandbox.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
