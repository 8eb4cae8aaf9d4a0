"""The seed lab's CNV stage rebuilt from its manifests, its real ovn-nbctl output parsed, and the
pings the seed observed in that stage.

Shared by the lab tests that apply the seed's stage to the lab's real ovnkube and compare what it
wrote with the seed's output (test_ovnk_controller.py, test_ovn_policy_info.py, test_ovn_trace.py).
Manifests: tests/unit/fixtures/seed_policies/ (verbatim seed policies and pods); the NAD and the
two VMs' launcher pods are written here from the seed's text (lines 91-115, 1615-1650).
Expected output: tests/lab/fixtures/seed_ovn_nb.txt (verbatim seed lines).
"""
import json
import re
import sys
from pathlib import Path

import yaml

REPO_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_DIR / "lab"))

from simulator import kubelet  # noqa: E402

SEED_POLICIES = REPO_DIR / "tests" / "unit" / "fixtures" / "seed_policies"
SEED_NB = Path(__file__).resolve().parent / "fixtures" / "seed_ovn_nb.txt"
NODE = "master-01-demo"
NAMESPACE = "llm-demo"
NAD_NAME = "llm-demo-localnet-network"
CNV_STAGE = ("multi-network-policy-deny-all.yaml", "multi-network-policy-allow-some.yaml",
             "multi-network-policy-allow-some-cnv.yaml")
# the seed's two VMs: launcher pod name, VM name, MAC (kubemacpool), pod UID of the seed's LSP
LAUNCHERS = (("virt-launcher-centos-stream9-gold-rabbit-80-vjfdm", "centos-stream9-gold-rabbit-80", "02:00:a3:00:00:01"),
             ("virt-launcher-centos-stream9-green-ferret-41-ksmzt", "centos-stream9-green-ferret-41", "02:00:a3:00:00:02"))


def load(*names):
    documents = []
    for name in names:
        documents += [d for d in yaml.safe_load_all((SEED_POLICIES / name).read_text()) if d]
    return documents


def nad():
    """The seed's NAD (seed lines 95-113, $var_namespace=llm-demo): IPAM-less localnet-cnv."""
    config = {"cniVersion": "0.3.1", "name": "localnet-cnv", "type": "ovn-k8s-cni-overlay",
              "topology": "localnet", "_subnets": "192.168.99.0/24", "_vlanID": 33, "_mtu": 1500,
              "netAttachDefName": f"{NAMESPACE}/{NAD_NAME}", "_excludeSubnets": "10.100.200.0/29"}
    return {"metadata": {"name": NAD_NAME, "namespace": NAMESPACE}, "spec": {"config": json.dumps(config)}}


def launcher(name, vm, mac, namespace=NAMESPACE):
    """A VM's launcher pod as the KubeVirt simulator writes it: label and MAC, no IP."""
    networks = json.dumps([{"name": NAD_NAME, "namespace": namespace, "mac": mac, "interface": "podffec3d98bf3"}])
    return {"metadata": {"name": name, "namespace": namespace,
                         "labels": {"kubevirt.io": "virt-launcher", "vm.kubevirt.io/name": vm},
                         "annotations": {kubelet.NETWORKS_ANNOTATION: networks}},
            "spec": {"containers": [{"name": "compute"}]}}


SEED_PINGS = [  # (source, destination, reached) as the seed observed them in the CNV stage
    ("192.168.77.92", "192.168.77.91", True),
    ("192.168.77.71", "192.168.77.1", True),
    ("192.168.77.71", "192.168.77.92", True),
    ("192.168.77.71", "203.0.113.10", True),
    ("192.168.77.71", "192.168.77.10", False),
    ("192.168.77.71", "192.168.77.93", False),
    ("192.168.77.92", "192.168.77.71", False),
    ("192.168.77.72", "192.168.77.1", True),
    ("192.168.77.72", "192.168.77.71", False),
    ("192.168.77.10", "192.168.77.71", False),
    ("192.168.77.91", "192.168.77.92", False),
    ("192.168.77.93", "192.168.77.91", False),
]


# --- the seed's text ----------------------------------------------------------------------------

def _lines():
    return [line[2:] if line.startswith("# ") else line for line in SEED_NB.read_text().splitlines()]


_PAIR = re.compile(r'("(?:[^"\\]|\\.)*"|[^=,{}\s]+)=("(?:[^"\\]|\\.)*"|[^,}]+)')


def ovsdb_value(text):
    """A value as `ovn-nbctl list` prints it: map, set, integer, boolean or string."""
    text = text.strip()
    if text.startswith("{"):
        return {_string(k): _string(v) for k, v in _PAIR.findall(text)}
    if text.startswith("["):
        inner = text[1:-1].strip()
        return [_string(v.strip()) for v in inner.split(",")] if inner else []
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if text in ("true", "false"):
        return text == "true"
    return _string(text)


def _string(text):
    return json.loads(text) if text.startswith('"') else text


def records(lines):
    """`ovn-nbctl list` records among `lines` (blank line or `--` ends one)."""
    found, current = [], {}
    for line in lines + [""]:
        match = re.match(r"^([a-z_0-9]+)\s*: (.*)$", line)
        if match:
            current[match.group(1)] = ovsdb_value(match.group(2))
        elif current:
            found.append(current)
            current = {}
    return found


def seed_acls():
    lines = _lines()
    start = next(i for i, l in enumerate(lines) if "ovn-nbctl list ACL" in l)
    end = next(i for i, l in enumerate(lines) if "we can get ACL from port group" in l)
    return records(lines[start + 1:end])


def seed_lsp():
    """The gold-rabbit launcher's logical switch port record."""
    lines = _lines()
    start = next(i for i, l in enumerate(lines) if "list Logical_Switch_Port" in l)
    return records(lines[start + 1:])[0]


def seed_switch_ports():
    """{port name: addresses line} of the seed's localnet switch (`ovn-nbctl show`)."""
    ports, current = {}, None
    for line in _lines():
        if line.startswith("switch ") and "localnet.cnv_ovn_localnet_switch" not in line:
            current = None
        port = re.match(r"^\s+port (\S+)$", line)
        if port:
            current = port.group(1)
            ports[current] = {}
        detail = re.match(r"^\s+(type|addresses): (.*)$", line)
        if detail and current:
            ports[current][detail.group(1)] = detail.group(2)
        if line.startswith("oc exec") and ports:
            break
    return ports


def seed_port_groups():
    """{name: {"record": Port_Group record, "acl_list": [lines]}} from the per-port-group loop."""
    groups, name, in_acls = {}, None, False
    lines = _lines()
    for index, line in enumerate(lines):
        info = re.match(r"^Info for port group (\S+):$", line)
        if info:
            name, in_acls = info.group(1), False
            groups[name] = {"record": records(lines[index + 1:index + 6])[0], "acl_list": []}
        elif re.match(r"^ACLs for port group", line):
            in_acls = True
        elif in_acls and line.strip() and not line.startswith("="):
            groups[name]["acl_list"].append(line)
        elif in_acls:
            in_acls = False
    return groups



def seed_log():
    """The ovnkube-controller log line the seed quotes for the refused selector policy."""
    return next(line for line in SEED_NB.read_text().splitlines() if "obj_retry.go" in line)
