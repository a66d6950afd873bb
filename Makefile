# The two commands of the README:
#   make book   builds the virtual environment, trains and evaluates the model, and builds the book
#   make test   runs the unit tests, builds the book from scratch with warnings as errors, and runs nbval
# One BLAS thread: notebook outputs are then bit-for-bit the same on every run; at this
# network's small matrix sizes a second thread gains little, and it costs a lot on a busy machine.
export OPENBLAS_NUM_THREADS = 1

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUN ?= runs/default

.PHONY: venv book train test unit clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

train: $(STAMP)
	$(VENV)/bin/fmcnn train --out $(RUN) --resume-if-exists
	$(VENV)/bin/fmcnn evaluate $(RUN)
	$(VENV)/bin/fmcnn plot $(RUN)

book: train
	$(VENV)/bin/jupyter-book build -W -n --keep-going .

# The unit tests alone (the browser check needs a built book: it runs in `make test`).
unit: $(STAMP)
	$(PY) -m pytest tests -m "not browser"

test: $(STAMP)
	rm -rf _build
	$(VENV)/bin/jupyter-book build --all -W -n --keep-going .
	$(PY) -m pytest tests book solutions --nbval

clean:
	rm -rf _build .pytest_cache
