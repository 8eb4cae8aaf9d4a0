# Every target creates .venv itself; nothing here needs Galaxy or a cluster.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COLLECTIONS := $(VENV)/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/ocpvirt/multinet
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLLECTIONS)
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: venv test unit lab-test demo lab-up lab-down lab-status bench

venv: $(VENV)/.installed $(COLLECTION_LINK)

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Ansible and pytest import the collection as ansible_collections.ocpvirt.multinet.
$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

test: unit lab-test

unit: venv
	$(BIN)/python -m pytest -q tests/unit

lab-test: venv
	$(BIN)/python -m pytest -q tests/lab

lab-up: venv
	@$(BIN)/python lab/labctl.py up

lab-down: venv
	@$(BIN)/python lab/labctl.py down

lab-status: venv
	@$(BIN)/python lab/labctl.py status

bench: venv
	$(BIN)/python bench/run.py
