# Bootstrap and everyday commands. `make demo` and `make test` work on a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3.10 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# No internet here: skip the public MNIST mirrors and go straight to the offline sources.
export FF_NEURO_NO_MIRRORS ?= 1
export MPLBACKEND ?= Agg

.PHONY: install demo lint format test test-fast clean

install: $(STAMP)

# Idempotent: re-runs only when pyproject.toml, constraints.txt or the Makefile change.
# The last two lines install the export clients the tests run (docs/hardware.md): norse, sinabs, lava-dl.
# Their own pins conflict with ours, so they come without dependencies, which are listed: lava-dl pins
# torch<2.4 and Python<3.11, sinabs nir<=1.0.4, and norse's torchvision would not match the CPU torch
# (netx never uses torchvision; ff_neuro.hardware.netx_lava stubs lava-dl's import of it).
$(STAMP): pyproject.toml constraints.txt Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]' h5py nir "scipy>=1.10.1,<1.15" "scikit-learn>=1.5,<1.6" "networkx<=2.8.7" "asteval>=0.9.31,<0.10"
	@if $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then \
	  $(PY) -m pip install -q -c constraints.txt --no-deps --ignore-requires-python lava-nc==0.10.0; \
	else \
	  $(PY) -m pip install -q -c constraints.txt lava-nc==0.10.0; \
	fi
	$(PY) -m pip install -q -c constraints.txt nirtorch pbr opencv-python-headless
	$(PY) -m pip install -q -c constraints.txt --no-deps --ignore-requires-python norse==1.1.0 sinabs==3.1.3 lava-dl==0.6.0
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/ff-neuro demo

# ruff (configured in pyproject.toml): lint and formatting, checked before the tests.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: $(STAMP) lint
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

clean:
	rm -rf $(VENV) .pytest_cache
