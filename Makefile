# make run: set up .venv, build the index if missing, serve the app on 127.0.0.1:7860
# make test: set up .venv, lint (ruff, mypy on rag/), run the tests (all of them: real model, browser)
# make test-fast: lint and the unit tests only (no model, no browser; tests/conftest.py)
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SOURCE ?= seeds
INDEX ?= index
# The browser tests drive Debian's chromium: `make test` installs it when missing and possible
# (root with apt-get, as .ci/run does; INSTALL_CHROMIUM=no to never try), else they are skipped
# with a warning. RAG_REQUIRE_BROWSER=1 (set by .ci/run) turns a missing browser into a failure.
CHROMIUM ?= /usr/bin/chromium
INSTALL_CHROMIUM ?= auto
export HF_HUB_OFFLINE := 1
export RAG_CHROMIUM := $(CHROMIUM)

.PHONY: run test test-fast index install lint bench bench-reader train-reader fit-combiner clean chromium

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

$(INDEX)/CURRENT: | install
	$(BIN)/rag index --source $(SOURCE) --index $(INDEX)

index: install
	$(BIN)/rag index --source $(SOURCE) --index $(INDEX)

run: install $(INDEX)/CURRENT
	$(BIN)/python app.py --host 127.0.0.1 --port 7860 --index $(INDEX)

lint: install
	$(BIN)/ruff check rag tests app.py app bench models
	$(BIN)/mypy

chromium:
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$(INSTALL_CHROMIUM)" != no ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "make: $(CHROMIUM) is missing; installing Debian's chromium for the browser tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
		echo "make: WARNING: could not install chromium; the browser tests will be SKIPPED"; \
	else \
		echo "make: WARNING: $(CHROMIUM) is missing and is not installed here (needs root, apt-get and INSTALL_CHROMIUM other than no);" \
			"the browser tests will be SKIPPED"; \
	fi

test: install lint chromium
	$(BIN)/python -m pytest -q

# The unit tests run on the model-free hashing embedder; `slow` marks the tests that load the
# real model (answer quality, the golden answers, the shipped reader), `browser` drive Chromium.
test-fast: install lint
	$(BIN)/python -m pytest -q -m "not slow and not browser"

bench: install
	$(BIN)/python bench/run.py

bench-reader: install
	$(BIN)/python bench/reader.py

# The reader ships in models/reader; `make` never retrains. These reproduce it (models/reader/README.md).
SQUAD_A ?= ../shared/data/squad-v1.1-dev-part-a.json.gz
EXTRA ?= models/data
# Three stages (models/reader/README.md): one epoch from the bundled encoder, then a second pass
# with more SQuADShifts questions and a fresh, lower learning-rate schedule. Stage 2 ran as two
# sessions (600 steps, then the remaining 552 resumed from the step-600 checkpoint), as here; a
# third adds the Natural Questions and New-Wikipedia questions the first two did not see.
STAGE2 = $(BIN)/python models/train_reader.py --data $(SQUAD_A) $(EXTRA)/squadshifts_new_wiki.json.gz:5000 \
	$(EXTRA)/nq_qed_train.json.gz:1500 --init /tmp/reader-stage1 --epochs 1 --lr 5e-5 --warmup 0.05 --seed 14 \
	--work /tmp/reader-work2
train-reader: install
	$(BIN)/python models/train_reader.py --data $(SQUAD_A) $(EXTRA)/squadshifts_new_wiki.json.gz:1500 \
		$(EXTRA)/nq_qed_train.json.gz:1500 --epochs 1 --out /tmp/reader-stage1 --work /tmp/reader-work
	$(STAGE2) --stop-after 600 --out /tmp/reader-stage2a
	$(STAGE2) --resume --out /tmp/reader-stage2
	$(BIN)/python models/train_reader.py --data $(SQUAD_A) $(EXTRA)/nq_qed_train.json.gz:1500-100000 \
		$(EXTRA)/squadshifts_new_wiki.json.gz:5000-100000 --init /tmp/reader-stage2 --epochs 1 --lr 3e-5 \
		--warmup 0.05 --seed 16 --work /tmp/reader-work3 --out models/reader

fit-combiner: install
	$(BIN)/pip install -q -e '.[train]'
	$(BIN)/python models/fit_combiner.py --data $(SQUAD_A) --reader models/reader --work /tmp/combiner-work \
		--extra $(EXTRA)/nq_qed_dev.json.gz

clean:
	rm -rf $(VENV) $(INDEX)/CURRENT $(INDEX)/v-* $(INDEX)/.tmp-* models/reader/cache
