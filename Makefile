# make run: set up .venv, build the index if missing, serve the app on 127.0.0.1:7860
# make test: set up .venv, lint, run the tests
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SOURCE ?= seeds
INDEX ?= index
export HF_HUB_OFFLINE := 1

.PHONY: run test index install lint bench bench-reader train-reader fit-combiner clean

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
	$(BIN)/ruff check rag tests app.py bench models

test: install lint
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/run.py

bench-reader: install
	$(BIN)/python bench/reader.py

# The reader ships in models/reader; `make` never retrains. These reproduce it (models/reader/README.md).
SQUAD_A ?= ../shared/data/squad-v1.1-dev-part-a.json.gz
EXTRA ?= models/data
train-reader: install
	$(BIN)/python models/train_reader.py --data $(SQUAD_A) $(EXTRA)/squadshifts_new_wiki.json.gz:1500 \
		$(EXTRA)/nq_qed_train.json.gz:1500 --epochs 1 --out models/reader --work /tmp/reader-work

fit-combiner: install
	$(BIN)/pip install -q -e '.[train]'
	$(BIN)/python models/fit_combiner.py --data $(SQUAD_A) --reader models/reader --work /tmp/combiner-work

clean:
	rm -rf $(VENV) $(INDEX)/CURRENT $(INDEX)/v-* $(INDEX)/.tmp-*
