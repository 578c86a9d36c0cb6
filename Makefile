# The one way in. `make demo` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CG     := $(VENV)/bin/creditgov
DEMO_DIR      ?= demo-county
DEMO_SUBJECTS ?= 20000
DEMO_SEED     ?= 7
export CREDITGOV_TODAY ?= 2026-11-01

.PHONY: demo test bench lint system-deps clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# Debian packages the tests need (Java for Spark, Chromium for browser tests, a CJK font).
system-deps:
	@bash scripts/system-deps.sh

demo: $(VENV)/.installed
	$(CG) generate --out $(DEMO_DIR) --subjects $(DEMO_SUBJECTS) --seed $(DEMO_SEED)
	$(CG) init
	$(CG) ingest $(DEMO_DIR)
	# Earlier files of three sources, each ingested on the day it came (demo/deliveries.py):
	# the grid office's monthly report stopped in September (a late source), the water and
	# power company's monthly bills make the load's twelve-month file a volume spike, and
	# the court's monthly case report received in October rejects three rows in ten where
	# its earlier files rejected one in two dozen (a rejection spike).
	for d in $(DEMO_DIR)/deliveries/*/; do CREDITGOV_TODAY=$$(basename $$d) $(CG) ingest $$d || exit 1; done
	$(CG) status
	# Two published quarter-end runs, then the shipped list criteria: proposals are
	# notified on 2026-10-20, approved by each identifying unit and published once the
	# response window has passed (on the demo's today, 2026-11-01).
	$(CG) evaluate -m public-credit-enterprise --as-of 2026-06-30 --publish
	$(CG) evaluate -m public-credit-enterprise --as-of 2026-09-30 --publish
	CREDITGOV_TODAY=2026-10-20 $(CG) lists run --notify
	$(CG) lists approve --all --unit court
	$(CG) lists approve --all --unit market
	$(CG) lists approve --all --unit credit
	$(CG) lists publish --all
	$(CG) evaluate -m public-credit-enterprise --publish
	$(CG) evaluate -m community-resident --publish
	# Graded supervision from public credit and the industry ratings (environment, work
	# safety, farm produce) with the city credit score as inputs (docs/ratings.md).
	$(CG) evaluate -m combined-supervision --publish
	# The merchant models' runs; a credit-merchant selection opened on 2026-10-20 (five
	# working days of public nomination and objection) and decided on the demo's today,
	# its awards becoming credit records; every third resident opts in to the public
	# boards per street and grid (docs/points.md).
	$(CG) evaluate -m yiwu-ecommerce --publish
	$(CG) evaluate -m zhili-childrenswear --publish
	CREDITGOV_TODAY=2026-10-20 $(CG) points selection open 2026 --title "2026年度诚信商户评选"
	$(CG) points selection decide 2026 --decision-no "县信用办〔2026〕12号"
	$(CG) points board-demo
	# The homestays' evaluation (Changxing's model), before the points and 信易贷 use it.
	$(CG) evaluate -m changxing-homestay --publish
	# Credit points from the published runs and positive records, and the points
	# supermarket's shops and offers, then a dozen residents' redemptions, most settled
	# at the shop (docs/points.md).
	$(CG) shop demo
	$(CG) points run
	$(CG) shop demo-redemptions
	# 信易贷 (docs/finance.md): two banks with products approved by the office, needs
	# from firms, merchants and homestays, the matches, a few loans with one default and
	# one claim paid by the risk-compensation fund.
	$(CG) finance demo
	$(CG) finance export-records $(DEMO_DIR)-finance-book
	$(CG) ingest $(DEMO_DIR)-finance-book
	# Graded supervision (docs/supervision.md): the inspector roster derived from the
	# county, then the random draws (双随机) on the demo's today with published seeds — firms
	# by their public-credit grade county-wide and the homestays' monthly check — so the
	# inspectors and the supervision pages have tasks.
	$(CG) supervise inspectors-load --demo
	$(CG) supervise draw --policy lindian-enterprise --seed 20261101
	$(CG) supervise draw --policy changxing-homestay --seed 20261101
	# Two complaints taken at the counter (docs/complaints.md), the first assigned to the
	# market department, so the complaints page has work in both states.
	$(CG) complaints file --category quality --respondent 城东某餐馆 --name 王女士 --contact 13800000001 --content 就餐后腹泻，餐馆拒不承认，请求查处 --json > $(DEMO_DIR)/complaint.json
	$(CG) complaints assign $$($(PY) -c "print(__import__('json').load(open('$(DEMO_DIR)/complaint.json'))['id'])") --department market --note 食品安全，转市场监管局
	$(CG) complaints file --category credit_work --respondent 县信用办 --name 李先生 --content 信用修复办理指引不清楚，希望公布材料清单
	# The warning rules over the ingested records, lists and runs and the sources' data
	# quality (after every ingestion above), so 风险预警, 数据质量 and the inboxes are
	# populated; then one delivery pass of the outbox.
	$(CG) alerts scan
	$(CG) alerts deliver
	$(CG) users demo
	$(CG) serve --host 127.0.0.1 --port 8000

test: system-deps $(VENV)/.installed-dev
	$(PY) -m pytest -q -n auto --maxprocesses 4 --dist loadfile --durations=30

bench: system-deps $(VENV)/.installed-dev
	$(PY) benchmarks/ingest.py
	$(PY) benchmarks/evaluate.py
	$(PY) benchmarks/store.py
	$(PY) benchmarks/scale.py
	$(PY) benchmarks/check.py
	$(PY) benchmarks/alerts.py
	$(PY) benchmarks/points.py
	$(PY) benchmarks/matching.py
	$(PY) benchmarks/code.py
	$(PY) benchmarks/api.py

# The house rules the build holds (docs/architecture.md): style, the service layers and
# independent edges, types, and the size of a source file.
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(PY) scripts/import_contracts.py > $(VENV)/importlinter.ini
	$(VENV)/bin/lint-imports --config $(VENV)/importlinter.ini
	$(VENV)/bin/mypy
	$(PY) scripts/check_sources.py src/creditgov

clean:
	rm -rf $(VENV) $(DEMO_DIR) creditgov.db creditgov.db-* creditgov.db.key
