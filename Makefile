# Each target sets up its own virtual environment, so a fresh machine needs only Python and make.
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench diagram clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/flexbot run

test: $(STAMP)
	$(PYTHON) -m pytest -q -n auto

bench: $(STAMP)
	$(PYTHON) -m bench

diagram: $(STAMP)
	$(PYTHON) -m flows.diagram --write README.md

clean:
	rm -rf $(VENV)
