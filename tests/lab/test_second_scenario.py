"""A second scenario, end to end through the playbooks as a user runs them: inventory/payments_lab/.

It shares nothing with the seed: namespace `payments`, network `corp-lan` on 172.16.50.0/24 (the
lab's gateway has a second address there), VMs `pay-web-1` and `pay-web-2` behind tcp/443 from the
gateway and the test pod `probe`, `pay-db` behind tcp/5432 from the web VMs. The cluster is one a
user does not own: the module fixture plays its owners, who installed NMState and OpenShift
Virtualization through OLM (with their instances) and created the namespace `payments`, all before
the first playbook and outside the collection; the inventory says `*_install_operator: false`.

The steps run in order on that cluster, each a test: `site.yml --check --diff` (exits 0, lists what
every stage would create, writes nothing), `site.yml`, `verify.yml` (0 disagreements; the guests
have a minimal image's tools, so nothing listens on tcp/443 or tcp/5432 there, and such a pair is
reached, never blocked),
`inspect.yml`, `plan.yml` of a change to policies.yml, `teardown.yml` (the owners' HyperConverged,
NMState and namespace stay, and the run says so). What the owners set up is removed at the end.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

from lab_helpers import OLM, condition, installed_csv, subscribe, wait_for
from test_teardown_safety import exists

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
INVENTORY = REPO / "inventory" / "payments_lab"
POLICIES = INVENTORY / "group_vars" / "clusters" / "policies.yml"
HOST = "payments-lab"
NAMESPACE, NAD = "payments", "corp-lan"
VMS = {"pay-web-1": "172.16.50.21", "pay-web-2": "172.16.50.22", "pay-db": "172.16.50.30"}
POD = "probe"
NNCP = ("nmstate.io", "v1", "nodenetworkconfigurationpolicies", "corp-lan-br-ex")
NMSTATE = ("nmstate.io", "v1", "nmstates", "nmstate")
HCO_NAMESPACE = "openshift-cnv"
CREATED_RECORD = "multinet.ocpvirt.io/created"  # roles/created_record/vars/main.yml
HCO = ("hco.kubevirt.io", "v1beta1", HCO_NAMESPACE, "hyperconvergeds", "kubevirt-hyperconverged")
NADS = ("k8s.cni.cncf.io", "v1", NAMESPACE, "network-attachment-definitions")
MNPS = ("k8s.cni.cncf.io", "v1beta1", NAMESPACE, "multi-networkpolicies")
VM_API = ("kubevirt.io", "v1", NAMESPACE, "virtualmachines")
# The intent's policies: the deny-all and one per workload named in an allow entry, but one for
# pay-web-1 and pay-web-2, whose rules are the same (named by the digest of those rules).
POLICY_NAMES = ["payments-allow-pay-db", "payments-allow-probe", "payments-default-deny",
                "payments-shared-7a8ad653d2"]


def playbook(tmp_path, kubeconfig, name, *args):
    """ansible-playbook -i inventory/payments_lab playbooks/<name> from the repository, as the
    README's "Use it on your cluster" runs it; returns (rc, output with whitespace folded)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "K8S_AUTH_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"), NO_COLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), MULTINET_KUBECONFIG=kubeconfig)
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(INVENTORY.relative_to(REPO)), f"playbooks/{name}",
         "-e", f"multinet_report_dir={tmp_path / 'reports'}", *args],
        check=False, capture_output=True, text=True, cwd=REPO, env=env, timeout=900)
    return result.returncode, " ".join((result.stdout + result.stderr).split())


def ensure_namespace(core, name, created):
    if not exists(lambda: core.read_namespace(name)):
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
        created.append(("namespace", name))


def install_operator(custom, core, namespace, package, created):
    """What the cluster's owners did: an OLM Subscription (and OperatorGroup) of their own."""
    ensure_namespace(core, namespace, created)
    if not exists(lambda: custom.get_namespaced_custom_object(*OLM, namespace, "subscriptions", package)):
        subscribe(custom, namespace, package)
        created.append(("subscription", namespace, package))
    installed_csv(custom, namespace, package)


@pytest.fixture(scope="module")
def owners_cluster(core, custom, lab_kubeconfig):
    """The cluster as its owners left it before the payments team came: both operators and their
    instances, and the namespace `payments` with a ConfigMap of theirs. Afterwards the owners take
    back what they set up here (operators and instances found already there are left alone)."""
    if exists(lambda: core.read_namespace(NAMESPACE)):
        pytest.fail(f"namespace {NAMESPACE} exists before the test: left over from an earlier run")
    # Instances already there must be someone else's: one our create marked (an earlier site.yml or
    # make demo on this lab) is rightly deleted by teardown, and the test would prove nothing.
    for kind, read in (("NMState", lambda: custom.get_cluster_custom_object(*NMSTATE)),
                       ("HyperConverged", lambda: custom.get_namespaced_custom_object(*HCO))):
        if exists(read) and CREATED_RECORD in (read()["metadata"].get("annotations") or {}):
            pytest.fail(f"the lab's {kind} was created by ocpvirt.multinet (an earlier site.yml or make demo): "
                        "run make lab-down and make lab-up, or teardown.yml, first")
    created = []
    state = {"torn_down": False}
    try:
        install_operator(custom, core, "openshift-nmstate", "kubernetes-nmstate-operator", created)
        if not exists(lambda: custom.get_cluster_custom_object(*NMSTATE)):
            custom.create_cluster_custom_object(*NMSTATE[:3], {
                "apiVersion": "nmstate.io/v1", "kind": "NMState", "metadata": {"name": "nmstate"}})
            created.append(("nmstate",))
        install_operator(custom, core, HCO_NAMESPACE, "kubevirt-hyperconverged", created)
        if not exists(lambda: custom.get_namespaced_custom_object(*HCO)):
            custom.create_namespaced_custom_object(*HCO[:4], {
                "apiVersion": "hco.kubevirt.io/v1beta1", "kind": "HyperConverged",
                "metadata": {"name": HCO[4]}, "spec": {}})
            created.append(("hyperconverged",))
        wait_for("NMState nmstate Available", lambda: condition(
            custom.get_cluster_custom_object(*NMSTATE), "Available").get("status") == "True")
        wait_for("HyperConverged Available", lambda: condition(
            custom.get_namespaced_custom_object(*HCO), "Available").get("status") == "True")
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
            name=NAMESPACE, labels={"team": "payments"})))
        core.create_namespaced_config_map(NAMESPACE, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="payments-settings"), data={"owner": "payments-team"}))
        yield state
    finally:
        if not state["torn_down"]:  # a step failed before teardown.yml ran: remove what site.yml made
            done = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(INVENTORY), "playbooks/teardown.yml",
                                   "-e", "@playbooks/vars/lab_timing.yml", "-e", "multinet_teardown_operators=false"],
                                  cwd=REPO, env=dict(os.environ, MULTINET_KUBECONFIG=lab_kubeconfig,
                                                     ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections")),
                                  capture_output=True, text=True, timeout=900, check=False)
            print(done.stdout[-3000:], done.stderr[-2000:])
        _take_back(core, custom, created)


def _take_back(core, custom, created):
    for item in reversed(created):
        try:
            if item[0] == "hyperconverged":
                custom.delete_namespaced_custom_object(*HCO)
            elif item[0] == "nmstate":
                custom.delete_cluster_custom_object(*NMSTATE)
            elif item[0] == "subscription":
                _, namespace, package = item
                sub = custom.get_namespaced_custom_object(*OLM, namespace, "subscriptions", package)
                custom.delete_namespaced_custom_object(*OLM, namespace, "subscriptions", package)
                csv = (sub.get("status") or {}).get("installedCSV")
                if csv:
                    custom.delete_namespaced_custom_object(*OLM, namespace, "clusterserviceversions", csv)
            elif item[0] == "namespace":
                core.delete_namespace(item[1])
        except ApiException as error:
            if error.status != 404:
                raise
    try:
        core.delete_namespace(NAMESPACE)
    except ApiException as error:
        if error.status != 404:
            raise
    wait_for(f"namespace {NAMESPACE} gone", lambda: not exists(lambda: core.read_namespace(NAMESPACE)), timeout=120)


@pytest.fixture(scope="module")
def scenario(owners_cluster, lab_kubeconfig, tmp_path_factory):  # pylint: disable=redefined-outer-name
    return {"kubeconfig": lab_kubeconfig, "tmp": tmp_path_factory.mktemp("payments"), "state": owners_cluster}


def ours(custom, core):
    """What of the payments scenario exists: {kind: [names]}."""
    def names(listing):
        try:
            return sorted(item["metadata"]["name"] for item in listing()["items"])
        except ApiException as error:
            if error.status == 404:
                return []
            raise
    return {
        "nncp": [NNCP[3]] if exists(lambda: custom.get_cluster_custom_object(*NNCP)) else [],
        "nad": names(lambda: custom.list_namespaced_custom_object(*NADS)),
        "vm": names(lambda: custom.list_namespaced_custom_object(*VM_API)),
        "pod": [p.metadata.name for p in core.list_namespaced_pod(NAMESPACE).items
                if not p.metadata.name.startswith("virt-launcher-")],
        "mnp": names(lambda: custom.list_namespaced_custom_object(*MNPS)),
    }


NOTHING = {"nncp": [], "nad": [], "vm": [], "pod": [], "mnp": []}


def test_check_mode_on_the_empty_cluster_lists_every_stage_and_writes_nothing(scenario, custom, core):
    rc, out = playbook(scenario["tmp"], scenario["kubeconfig"], "site.yml", "--check", "--diff",
                       "-e", "@playbooks/vars/lab_timing.yml")
    assert rc == 0, out[-6000:]
    assert ours(custom, core) == NOTHING, out[-3000:]
    # Every stage says what it would create: the mapping, the NAD, the VMs and pod, the policies
    # and the flows they would open.
    assert "NodeNetworkConfigurationPolicy" in out and NNCP[3] in out, out[-6000:]
    assert re.search(r"NetworkAttachmentDefinition\W+\S*corp-lan", out), out[-6000:]
    for name in (*VMS, POD):
        assert name in out, (name, out[-6000:])
    for policy in POLICY_NAMES:
        assert policy in out, (policy, out[-6000:])
    # Against a namespace without policies everything flows: the deny-all closes what no rule
    # opens, and the allowed flows stay.
    assert "closes pay-db -> pay-web-1 all" in out and "closes probe -> pay-db all" in out, out[-6000:]
    assert "gateway -> pay-web-1 tcp/443" not in out and "pay-web-2 -> pay-db tcp/5432" not in out, out[-6000:]


def test_apply_builds_everything_on_a_cluster_whose_operators_are_someone_elses(scenario, custom, core):
    rc, out = playbook(scenario["tmp"], scenario["kubeconfig"], "site.yml", "-e", "@playbooks/vars/lab_timing.yml")
    assert rc == 0, out[-6000:]
    assert ours(custom, core) == {"nncp": [NNCP[3]], "nad": [NAD], "vm": sorted(VMS), "pod": [POD],
                                  "mnp": POLICY_NAMES}, out[-3000:]
    # Nothing of the operators' was installed by us.
    for namespace, package in (("openshift-nmstate", "kubernetes-nmstate-operator"),
                               (HCO_NAMESPACE, "kubevirt-hyperconverged")):
        subscriptions = custom.list_namespaced_custom_object(*OLM, namespace, "subscriptions")["items"]
        assert [s["metadata"]["name"] for s in subscriptions] == [package], subscriptions
    assert (core.read_namespace(NAMESPACE).metadata.annotations or {}).get(
        "multinet.ocpvirt.io/created-namespace") is None, "a namespace that existed was marked as ours"
    wait_for("the VMs running", lambda: all(
        (custom.get_namespaced_custom_object(*VM_API, vm).get("status") or {}).get("printableStatus") == "Running"
        for vm in VMS), timeout=120)


def junit_details(report_dir):
    """{(check, pair): testcase text} from verify's junit.xml."""
    suites = ET.parse(report_dir / "junit.xml").getroot()
    return {(case.get("classname").split(".", 1)[1], case.get("name")): "".join(case.itertext())
            for case in suites.iter("testcase")}


def minimal_guest_path(directory):
    """A PATH as on a minimal guest image: a shell, bash, ping, timeout, date and sleep; no
    python3, nc or socat, so nothing can listen on a port in the guests."""
    directory.mkdir()
    for tool in ("sh", "bash", "ping", "timeout", "date", "sleep"):
        (directory / tool).symlink_to(shutil.which(tool))
    return directory


def test_verify_finds_no_disagreement_and_a_port_without_listener_reached(scenario):
    """The guests are reached with `labctl exec`, the lab's way into a guest (playbooks/vars/
    lab_probe.yml), under the PATH of a minimal guest image."""
    path = minimal_guest_path(scenario["tmp"] / "guest-bin")
    guest = f"{sys.executable} {REPO / 'lab' / 'labctl.py'} exec {{namespace}}/{{vm}} -- env PATH={path} sh -c {{command}}"
    rc, out = playbook(scenario["tmp"], scenario["kubeconfig"], "verify.yml",
                       "-e", json.dumps({"verify_guest_command": guest}))
    assert rc == 0, out[-6000:]
    summary = re.search(r"(\d+) pairs checked, (\d+) disagree, (\d+) probed", out)
    assert summary, out[-6000:]
    checked, disagree, probed = map(int, summary.groups())
    # 5 endpoints (3 VMs, the pod, the gateway): 20 ordered pairs for icmp, tcp/443 and tcp/5432.
    assert (checked, disagree) == (60, 0), out[-6000:]
    assert probed > 0, out[-6000:]
    details = junit_details(scenario["tmp"] / "reports" / HOST)
    # Nothing listens on tcp/5432 in pay-db's guest, nor on tcp/443 in the web guests: the
    # allowed pairs, probed from the guests and from the pod, are refused by the guest's kernel,
    # so reached, never "blocked".
    for check, pair in (("tcp/5432", "pay-web-1 -> pay-db"), ("tcp/5432", "pay-web-2 -> pay-db"),
                        ("tcp/443", "probe -> pay-web-1"), ("tcp/443", "probe -> pay-web-2")):
        text = details[next(key for key in details if key[0].endswith(check) and key[1] == pair)]
        assert "probed: allow" in text and "refused" in text and "blocked" not in text, (check, pair, text)
    # A pair the intent does not open times out: blocked.
    for check, pair in (("tcp/5432", "probe -> pay-db"), ("tcp/443", "pay-db -> pay-web-1")):
        text = details[next(key for key in details if key[0].endswith(check) and key[1] == pair)]
        assert "probed: deny - blocked" in text, (check, pair, text)


def test_inspect_reads_back_every_policy(scenario):
    rc, out = playbook(scenario["tmp"], scenario["kubeconfig"], "inspect.yml")
    assert rc == 0, out[-6000:]
    inspection = (scenario["tmp"] / "reports" / HOST / "inspection.md").read_text()
    for policy in POLICY_NAMES:
        assert policy in inspection, (policy, inspection[:3000])


def test_plan_of_a_change_names_the_flows_it_opens_and_closes(scenario):
    """A pull request lets the probe pod reach pay-db on tcp/5432 and retires pay-web-2 from it."""
    intents = yaml.safe_load(POLICIES.read_text())
    allow = intents["policies_intents"][0]["allow"]
    allow[1]["from"] = ["pay-web-1"]
    allow.append({"from": "probe", "to": "pay-db", "ports": ["tcp/5432"]})
    after = scenario["tmp"] / "change" / "policies.yml"
    after.parent.mkdir()
    after.write_text(yaml.safe_dump(intents))
    output_dir = scenario["tmp"] / "plan"
    rc, out = playbook(scenario["tmp"], scenario["kubeconfig"], "plan.yml", "-e", f"plan_before={POLICIES}",
                       "-e", f"plan_after={after}", "-e", f"plan_output_dir={output_dir}")
    assert rc == 0, out[-6000:]
    assert "1 flows opened, 1 closed" in out, out[-3000:]
    flows = json.loads((output_dir / "flow-changes.json").read_text())
    assert (flows["opened"], flows["closed"]) == (1, 1), flows
    markdown = (output_dir / "flow-changes.md").read_text()
    assert "probe" in markdown and "pay-web-2" in markdown and "tcp/5432" in markdown, markdown


def test_teardown_removes_ours_and_keeps_the_owners_operators_and_namespace(scenario, custom, core):
    rc, out = playbook(scenario["tmp"], scenario["kubeconfig"], "teardown.yml", "-e", "@playbooks/vars/lab_timing.yml")
    scenario["state"]["torn_down"] = rc == 0
    assert rc == 0, out[-6000:]
    assert ours(custom, core) == NOTHING, out[-3000:]
    assert exists(lambda: custom.get_namespaced_custom_object(*HCO)), "HyperConverged deleted: " + out[-3000:]
    assert exists(lambda: custom.get_cluster_custom_object(*NMSTATE)), "NMState deleted: " + out[-3000:]
    assert core.read_namespaced_config_map("payments-settings", NAMESPACE).data == {"owner": "payments-team"}
    assert f"namespace {NAMESPACE} was not created by ocpvirt.multinet" in out, out[-3000:]
    # The run names the instances it kept.
    assert re.search(r"HyperConverged \S*kubevirt-hyperconverged .{0,200}?kept", out), out[-3000:]
    assert re.search(r"NMState nmstate .{0,200}?kept", out), out[-3000:]
