# The desk's commands. `make run` and `make test` do all the set-up a fresh machine needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CHECKOV_VENV := .venv-checkov
PORT   ?= 7071
LINESIM_PORT ?= 7072

.PHONY: help venv node checkov browser fonts screenshots lint format test unit contract e2e run chat bench soak load report clean

help:
	@echo "make run     serve the desk on http://127.0.0.1:$(PORT) with SQLite and the LINE simulator"
	@echo "             (PORT=$(PORT) and LINESIM_PORT=$(LINESIM_PORT) by default: make run PORT=8071 LINESIM_PORT=8072)"
	@echo "make chat    talk to the running desk as a LINE user (LINESIM_PORT=$(LINESIM_PORT): the port make run printed)"
	@echo "make screenshots   the console's screens, taken in Chromium, into docs/console/"
	@echo "make test    lint, type-check and run every test (installs what it needs)"
	@echo "make bench   print the desk's performance figures"
	@echo "make soak    three instances on one store for 5 minutes (SOAK_SECONDS=300 SOAK_RATE=15): counts printed"
	@echo "make load USERS=20 SECONDS=10   simulated users through the local host"
	@echo "make report FROM=YYYY-MM TO=YYYY-MM   statistics of whole months as CSV and a PNG chart"
	@echo "make format  format the code"

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@echo "Installing the desk's Python packages into $(VENV) (the first time takes a minute or two)..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	@echo "Installing the Cosmos DB test server and htmx from npm (first time only)..."
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

venv: $(BIN)/.installed
checkov: $(CHECKOV_VENV)/.installed
node: node_modules/.installed

# The console's browser tests drive Debian's Chromium (`playwright install` cannot download
# browsers here) and its screenshots need Japanese glyphs.
browser:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	@fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || (apt-get update && apt-get install -y fonts-noto-cjk)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint node checkov browser fonts
	$(BIN)/python -m pytest

unit: venv
	$(BIN)/python -m pytest tests/unit

contract: venv node
	$(BIN)/python -m pytest tests/contract

e2e: venv browser
	$(BIN)/python -m pytest tests/e2e

screenshots: venv browser
	DESK_SCREENSHOTS=docs/console $(BIN)/python -m pytest -q tests/e2e/test_console_browser_e2e.py tests/e2e/test_console_notes_browser_e2e.py \
		tests/e2e/test_board_browser_e2e.py tests/e2e/test_console_admin_browser_e2e.py tests/e2e/test_operators_browser_e2e.py \
		tests/e2e/test_console_alerts_browser_e2e.py tests/e2e/test_console_layout_browser_e2e.py

run: venv
	@echo "Starting the desk on port $(PORT) and the LINE simulator on $(LINESIM_PORT) (PORT=… LINESIM_PORT=… to change)"
	$(BIN)/python -m devtools.host --port $(PORT) --linesim $(LINESIM_PORT)

chat: venv
	$(BIN)/python -m devtools.chat --simulator http://127.0.0.1:$(LINESIM_PORT)

bench: venv node
	$(BIN)/python -m devtools.bench

# Three instances on one Cosmos DB test server, then on one SQLite file, for minutes; the
# figures are printed, not asserted (the short version runs in `make test`).
SOAK_SECONDS ?= 300
SOAK_RATE ?= 15
SOAK_USERS ?= 60
soak: venv node
	$(BIN)/python -m tests.e2e.soak --seconds $(SOAK_SECONDS) --rate $(SOAK_RATE) --users $(SOAK_USERS)

USERS ?= 20
SECONDS ?= 10
load: venv
	$(BIN)/python -m devtools.load --users $(USERS) --seconds $(SECONDS)

# The report's chart is drawn in Noto Sans CJK (Japanese glyphs).
fonts:
	@fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || (apt-get update && apt-get install -y fonts-noto-cjk)

report: venv fonts
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make report FROM=YYYY-MM TO=YYYY-MM (calendar months, inclusive)"; exit 2; }
	$(BIN)/python -m devtools.report --from $(FROM) --to $(TO)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .desk .pytest_cache .mypy_cache .ruff_cache .hypothesis
