# The two commands of the README:
#   make book   builds the virtual environment, trains and evaluates the model, and builds the book
#   make test   runs the unit tests, builds the book from scratch with warnings as errors, and runs nbval
#               twice: with this machine's rounding and with another's (nbval-other-rounding)
# One BLAS thread: notebook outputs are then bit-for-bit the same on every run; at this
# network's small matrix sizes a second thread gains little, and it costs a lot on a busy machine.
export OPENBLAS_NUM_THREADS = 1

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUN ?= runs/default

.PHONY: venv book train test unit nbval-other-rounding clean

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
	$(MAKE) --no-print-directory nbval-other-rounding

# nbval again with NumPy's baseline SIMD loops instead of its AVX2/FMA ones (NumPy 2.4 calls that
# level X86_V3): float32 results then differ in their last digits, as on another processor, and
# every output that nbval compares must still match. The variable is an x86-64 feature name.
OTHER_ROUNDING := NPY_DISABLE_CPU_FEATURES=X86_V3

nbval-other-rounding: $(STAMP)
	@if [ "$$(uname -m)" != x86_64 ]; then \
	  echo "skipped: nbval with $(OTHER_ROUNDING) needs an x86-64 processor, this one is $$(uname -m)"; \
	else \
	  echo "nbval with another machine's rounding: $(OTHER_ROUNDING)"; \
	  $(OTHER_ROUNDING) $(PY) -c "from numpy._core._multiarray_umath import __cpu_features__ as f; \
	    assert not f['X86_V3'], 'NumPy still uses its X86_V3 loops: NPY_DISABLE_CPU_FEATURES had no effect'" && \
	  $(OTHER_ROUNDING) $(PY) -m pytest book solutions --nbval -p no:cacheprovider; \
	fi

clean:
	rm -rf _build .pytest_cache
