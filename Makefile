# Every target creates .venv itself; nothing here needs Galaxy or a cluster.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COLLECTIONS := $(VENV)/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/ocpvirt/multinet
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLLECTIONS)
export PATH := $(CURDIR)/$(BIN):$(PATH)
INVENTORY ?= inventory/seed_lab
# Point KUBECONFIG_FILE at a real cluster to run the demo there instead of the lab.
KUBECONFIG_FILE ?=
# The OpenShift era the lab plays (lab/controlplane/profiles.py): 4.15 (default, state in .lab/) or
# 4.18 (state in .lab-4.18/); demo, lab-up/down/status and lab-test take it from here or the
# environment, e.g. `make demo OCPVIRT_LAB_PROFILE=4.18`.
LAB_PROFILES := 4.15 4.18
export OCPVIRT_LAB_PROFILE

.PHONY: venv system-deps test unit lint sanity lab-test demo render verify inspect teardown \
	lab-build lab-up lab-down lab-purge lab-status lab-test-418 bench build crosscheck-tools crosscheck molecule soak

venv: $(VENV)/.installed $(COLLECTION_LINK)

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Ansible and pytest import the collection as ansible_collections.ocpvirt.multinet.
$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

# Debian packages some tests use: Chromium renders the verification report, shellcheck is
# read by ansible-test. Best effort: without them those checks skip and say why.
# The lab's data plane needs OVS/OVN, iproute2, ethtool and ping (labctl names what is missing);
# the 4.18 profile's OVN 24.09 / OVS 3.4 build (lab/controlplane/ovn.py BUILD_DEPS) the rest.
LAB_DEBS := ovn-central ovn-host openvswitch-switch iproute2 ethtool iputils-ping \
	build-essential autoconf automake libtool libcap-ng-dev libunbound-dev libunwind-dev pkg-config libssl-dev
system-deps:
	@command -v chromium >/dev/null && command -v shellcheck >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium shellcheck >/dev/null; } || \
	  echo "warning: could not install chromium/shellcheck; the browser test will skip" >&2
	@dpkg-query -W -f='$${Status}\n' $(LAB_DEBS) 2>/dev/null | grep -c '^install ok installed' | grep -qx $(words $(LAB_DEBS)) || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(LAB_DEBS) >/dev/null; } || \
	  echo "warning: could not install $(LAB_DEBS); the lab's data plane cannot start" >&2

# On a fresh machine most of make test is the lab's builds (Kubernetes, two ovnkube commits, OVN
# 24.09): they run beside the checks that need no lab, two jobs at a time, each job's output
# printed whole when it ends; then the lab passes. A failing job stops make test there.
test: venv system-deps
	$(MAKE) --no-print-directory -j2 --output-sync=target unit lint sanity lab-build
	$(MAKE) --no-print-directory lab-test lab-test-418

unit: venv
	$(BIN)/python -m pytest -q tests/unit tests/crosscheck

# The import contracts of .importlinter (module_utils' layers), then ansible-lint.
lint: venv
	PYTHONPATH=$(CURDIR)/$(COLLECTIONS) $(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/ansible-lint

sanity: venv system-deps
	scripts/sanity.sh

# The lab tests start the lab control plane themselves (building it on first use).
# make test runs the Molecule scenarios that test something no other lab test does; the
# per-role scenarios whose roles `full` converges together (operators, bridge mapping,
# workloads) and `render` (tests/lab/test_render_apply.py checks the same rendered files and
# more) run with `make molecule`, which runs all of them.
MOLECULE_IN_TEST := full,bridge_mapping_failure,multinetwork_policy_switch,network_attachment,policies,verify
lab-test: venv system-deps
	MULTINET_MOLECULE_SCENARIOS=$${MULTINET_MOLECULE_SCENARIOS-$(MOLECULE_IN_TEST)} \
		$(BIN)/python -m pytest -q --durations=15 tests/lab

# Generated MultiNetworkPolicy sets traced through the real ovnkube's OVN and compared with the
# simulator (tests/lab/test_generated_policies.py): make test runs 4 cases, soak runs
# MULTINET_SOAK_CASES (with two more kinds of traffic); MULTINET_GEN_SEED picks another seed.
MULTINET_SOAK_CASES ?= 60
soak: venv system-deps
	MULTINET_GEN_CASES=$(MULTINET_SOAK_CASES) MULTINET_GEN_SOAK=1 \
		$(BIN)/python -m pytest -q tests/lab/test_generated_policies.py

# make test's pass on the 4.18 profile, after lab-test (whose session stops the 4.15 lab it
# started): its own lab in .lab-4.18/, stopped at the end. One test file a line.
LAB_TEST_418 :=
LAB_TEST_418 += tests/lab/test_seed_stages.py
LAB_TEST_418 += tests/lab/test_ovn_trace.py::test_traced_verdicts_equal_the_real_probes_and_every_vm_pair_is_traced
LAB_TEST_418 += tests/lab/test_inspect.py
LAB_TEST_418 += tests/lab/test_physical_network_name.py
lab-test-418: venv system-deps
	OCPVIRT_LAB_PROFILE=4.18 OCPVIRT_LAB_TEARDOWN=1 $(BIN)/python -m pytest -q --durations=15 $(LAB_TEST_418)

molecule: venv system-deps
	MULTINET_MOLECULE_SCENARIOS= $(BIN)/python -m pytest -q tests/lab/test_molecule.py

# Every profile's builds (Kubernetes, each ovnkube commit, the 4.18 OVN), each cached by its sources.
lab-build: venv
	@for profile in $(LAB_PROFILES); do OCPVIRT_LAB_PROFILE=$$profile $(BIN)/python lab/labctl.py build || exit 1; done

lab-up: venv
	@$(BIN)/python lab/labctl.py up

lab-down: venv
	@$(BIN)/python lab/labctl.py down

lab-purge: venv
	@$(BIN)/python lab/labctl.py down --purge

lab-status: venv
	@$(BIN)/python lab/labctl.py status

# The main job: the seed lab built by site.yml, then verified, against the lab control plane
# (or KUBECONFIG_FILE). The report lands in reports/<host>/.
demo: venv
	@kubeconfig="$(KUBECONFIG_FILE)"; timing=""; probe=""; \
	if [ -z "$$kubeconfig" ]; then \
	  kubeconfig=$$($(BIN)/python lab/labctl.py up) || exit 1; \
	  timing="-e @playbooks/vars/lab_timing.yml"; probe="-e @playbooks/vars/lab_probe.yml"; \
	fi; \
	echo "cluster: $$kubeconfig"; \
	export MULTINET_KUBECONFIG="$$kubeconfig"; \
	$(BIN)/ansible-playbook -i $(INVENTORY) playbooks/site.yml $$timing && \
	$(BIN)/ansible-playbook -i $(INVENTORY) playbooks/verify.yml $$probe && \
	echo "report: $(CURDIR)/reports/<cluster>/report.html and junit.xml" && \
	echo "see it: KUBECONFIG=$$kubeconfig kubectl get nncp,vm,vmi,pods,net-attach-def,multi-networkpolicies -A"

# What OVN-Kubernetes made of the policies of the inventory's inspect_networks, against the lab
# control plane (or KUBECONFIG_FILE); read-only. The report lands in reports/<host>/inspection.md.
inspect: venv
	@kubeconfig="$(KUBECONFIG_FILE)"; \
	if [ -z "$$kubeconfig" ]; then kubeconfig=$$($(BIN)/python lab/labctl.py up) || exit 1; fi; \
	MULTINET_KUBECONFIG="$$kubeconfig" $(BIN)/ansible-playbook -i $(INVENTORY) playbooks/inspect.yml

render: venv
	$(BIN)/ansible-playbook -i $(INVENTORY) playbooks/render.yml

teardown: venv
	@kubeconfig="$(KUBECONFIG_FILE)"; \
	if [ -z "$$kubeconfig" ]; then kubeconfig=$$($(BIN)/python lab/labctl.py up) || exit 1; fi; \
	MULTINET_KUBECONFIG="$$kubeconfig" $(BIN)/ansible-playbook -i $(INVENTORY) playbooks/teardown.yml

bench: venv
	$(BIN)/python bench/compile_bench.py
	$(BIN)/python bench/run.py

build: venv
	$(BIN)/ansible-galaxy collection build --force --output-path dist .

# np-guard's netpolicy for tests/crosscheck, built from a checkout of its public source (the Go
# module proxy refuses github.com/np-guard/netpol-analyzer itself; its dependencies come through it).
NP_GUARD_SRC ?=
NP_GUARD_BIN := $${XDG_CACHE_HOME:-$(HOME)/.cache}/ocpvirt-multinet-lab/np-guard/netpolicy
crosscheck-tools:
	@test -n "$(NP_GUARD_SRC)" || { echo "crosscheck-tools: set NP_GUARD_SRC to a checkout of" \
	  "https://github.com/np-guard/netpol-analyzer (git clone it first)" >&2; exit 2; }
	cd "$(NP_GUARD_SRC)" && nice -n 19 go build -trimpath -o "$(NP_GUARD_BIN)" ./cmd/netpolicy
	@echo "built $(NP_GUARD_BIN)"

crosscheck: venv
	$(BIN)/python -m pytest -q tests/crosscheck
