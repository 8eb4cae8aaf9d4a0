"""Where the time goes between an apply of MultiNetworkPolicies and every ping agreeing (issue 23, item 4).

On the running lab, which runs the real OVN-Kubernetes (`labctl up`): four pods
on a new localnet network (172.16.50.81-.84, two per node), and intents that alternate between
two allow lists (v1: a -> b, c -> d; v2: c -> b, a -> d), so each change closes a flow that was
open (a -> b, pinged without a pause across the change, one ICMP id: a conntrack entry) and opens
another. Each round applies the compiled policies through the API server (server-side apply and
deletes, what the multinetwork_policy module sends) and, from the moment the last write returned,
times per zone (node):

- ovnkube: until the zone's NB holds every policy as the API says it (ovn/convergence.py
  zone_pending, what the verify role waits for);
- northd: from then, NB_Global nb_cfg is bumped (as `ovn-nbctl --wait=hv sync` does) and its
  sb_cfg polled: the Southbound logical flows are written;
- ovn-controller: hv_cfg, the chassis have installed the OpenFlow rules;
- pings: fresh `ping -c1 -W1` of all twelve pairs, in rounds, until all agree with the intent;
- conntrack: when the continuous ping of the closed flow stops getting replies.

Usage: python bench/enforcement_lag.py [ROUNDS]   (prints JSON, one line per round)
"""
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO / ".venv" / "collections", REPO / "lab"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from kubernetes import client, config  # noqa: E402

from ansible_collections.ocpvirt.multinet.plugins.module_utils.ovn import convergence, ovsdb  # noqa: E402
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent  # noqa: E402
import dataplane  # noqa: E402

STATE_DIR = Path(os.environ.get("OCPVIRT_LAB_DIR") or REPO / ".lab")
PODS = {"a": ("172.16.50.81", "worker-0"), "b": ("172.16.50.82", "worker-1"),
        "c": ("172.16.50.83", "worker-0"), "d": ("172.16.50.84", "worker-1")}
ALLOWS = {"v1": (("a", "b"), ("c", "d")), "v2": (("c", "b"), ("a", "d"))}
NAD = "lag-net"
MNP = ("k8s.cni.cncf.io", "v1beta1", "multi-networkpolicies")


def node_env(node):
    return dict(os.environ, **dataplane.node_env(STATE_DIR, node))


def nbctl(node, *args):
    return subprocess.run(["ovn-nbctl", *args], env=node_env(node), check=True, capture_output=True,
                          text=True).stdout


def netns(namespace, pod):
    return json.loads((STATE_DIR / "exec-targets" / "pods" / namespace / f"{pod}.json").read_text())["netns"]


def intent(namespace, version):
    return {"name": "lag", "namespace": namespace, "network": f"{namespace}/{NAD}",
            "workloads": {name: {"selector": {"app": name}, "ips": [ip]} for name, (ip, _) in PODS.items()},
            "allow": [{"from": source, "to": target} for source, target in ALLOWS[version]]}


def expected(version):
    allowed = set(ALLOWS[version])
    return {(s, t): (s, t) in allowed for s in PODS for t in PODS if s != t}


def apply(custom, namespace, policies):
    """Server-side apply of `policies`, delete the namespace's others; the seconds the writes took."""
    started = time.monotonic()
    names = set()
    for policy in policies:
        names.add(policy["metadata"]["name"])
        custom.patch_namespaced_custom_object(*MNP[:2], namespace, MNP[2], policy["metadata"]["name"], policy,
                                              field_manager="lag-bench", force=True,
                                              _content_type="application/apply-patch+yaml")
    for item in custom.list_namespaced_custom_object(*MNP[:2], namespace, MNP[2])["items"]:
        if item["metadata"]["name"] not in names:
            custom.delete_namespaced_custom_object(*MNP[:2], namespace, MNP[2], item["metadata"]["name"])
    return time.monotonic() - started


def zone_stages(node, network, live, pods, t0, out):
    """Fill out[node] with the seconds from t0 until the NB, sb_cfg and hv_cfg caught up."""
    while True:
        nb = ovsdb.parse_nb_output(nbctl(node, *ovsdb.NB_COMMAND[1:]))
        pending = convergence.zone_pending(network, node, nb, live, pods)
        if not pending:
            break
        if time.monotonic() - t0 > 120:
            out[node] = {"pending": pending}
            return
        time.sleep(0.05)
    out[node] = {"nb": time.monotonic() - t0}
    target = int(nbctl(node, "get", "NB_Global", ".", "nb_cfg")) + 1
    nbctl(node, "--no-wait", "set", "NB_Global", ".", f"nb_cfg={target}")
    while "sb" not in out[node] or "hv" not in out[node]:
        sb_cfg, hv_cfg = (int(v) for v in nbctl(node, "get", "NB_Global", ".", "sb_cfg", "hv_cfg").split())
        now = time.monotonic() - t0
        if sb_cfg >= target:
            out[node].setdefault("sb", now)
        if hv_cfg >= target:
            out[node].setdefault("hv", now)
        time.sleep(0.02)


def ping(namespace, source, target):
    return subprocess.run(["ip", "netns", "exec", netns(namespace, source), "ping", "-c1", "-W1", PODS[target][0]],
                          capture_output=True, check=False).returncode == 0


def pings_agree(namespace, want, t0, out):
    """Rounds of all pairs at once until every ping agrees with `want`; out['pings'] = seconds."""
    while time.monotonic() - t0 < 120:
        results = {}
        threads = [threading.Thread(target=lambda p=pair: results.__setitem__(p, ping(namespace, *p))) for pair in want]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if results == want:
            out["pings"] = time.monotonic() - t0
            return
    out["pings"] = None


class ContinuousPing:
    """`ping -i 0.1` of one pair (one ICMP id, so one conntrack entry); the time of the last reply."""

    def __init__(self, namespace, source, target):
        self.process = subprocess.Popen(["ip", "netns", "exec", netns(namespace, source), "ping", "-i", "0.1", "-D",
                                         "-W", "1", PODS[target][0]], stdout=subprocess.PIPE, text=True)
        self.last_reply = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            if "bytes from" in line:
                self.last_reply = time.monotonic()

    def stop(self):
        self.process.terminate()
        self.process.wait()


def setup(core, custom, api_network):
    namespace = f"lag-{uuid.uuid4().hex[:6]}"
    nodes = dataplane.data_plane_nodes()
    for node in nodes:
        mappings = subprocess.run(["ovs-vsctl", "get", "Open_vSwitch", ".", "external_ids:ovn-bridge-mappings"],
                                  env=node_env(node), capture_output=True, text=True, check=True).stdout.strip('"\n')
        subprocess.run(["ovs-vsctl", "set", "Open_vSwitch", ".",
                        f'external_ids:ovn-bridge-mappings="{api_network}:br-ex,{mappings}"'],
                       env=node_env(node), check=True)
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    nad_config = {"cniVersion": "0.3.1", "name": api_network, "type": "ovn-k8s-cni-overlay", "topology": "localnet",
                  "netAttachDefName": f"{namespace}/{NAD}"}
    custom.create_namespaced_custom_object("k8s.cni.cncf.io", "v1", namespace, "network-attachment-definitions", {
        "apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition", "metadata": {"name": NAD},
        "spec": {"config": json.dumps(nad_config)}})
    for name, (ip, node) in PODS.items():
        core.create_namespaced_pod(namespace, {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": name}, "annotations": {
                "k8s.v1.cni.cncf.io/networks": json.dumps([{"name": NAD, "ips": [ip + "/24"]}])}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "quay.io/example/tiny:1"}]}})
    deadline = time.monotonic() + 180
    while not all((STATE_DIR / "exec-targets" / "pods" / namespace / f"{p}.json").exists() for p in PODS):
        if time.monotonic() > deadline:
            raise RuntimeError("pods not plugged in")
        time.sleep(1)
    return namespace


def main(argv):
    rounds = int(argv[0]) if argv else 4
    api = config.new_client_from_config(config_file=str(STATE_DIR / "kubeconfig"))
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    api_network = f"lag-{uuid.uuid4().hex[:6]}"
    namespace = setup(core, custom, api_network)
    nodes = dataplane.data_plane_nodes()
    network = {"name": api_network, "physical": api_network, "ipam": False, "nad": f"{namespace}/{NAD}",
               "nads": [f"{namespace}/{NAD}"]}
    try:
        pings_agree(namespace, {pair: True for pair in expected("v1")}, time.monotonic(), {})
        for index in range(rounds):
            version = ("v1", "v2")[index % 2]
            closed = ALLOWS["v2" if version == "v1" else "v1"][0] if index else None
            keep = ContinuousPing(namespace, *closed) if closed else None
            time.sleep(1 if keep else 0)
            policies = compile_intent(intent(namespace, version))
            writes = apply(custom, namespace, policies)
            t0 = time.monotonic()
            live = custom.list_namespaced_custom_object(*MNP[:2], namespace, MNP[2])["items"]
            pods = [api.sanitize_for_serialization(p) for p in core.list_namespaced_pod(namespace).items]
            out, threads = {}, []
            for node in nodes:
                threads.append(threading.Thread(target=zone_stages, args=(node, network, live, pods, t0, out)))
            threads.append(threading.Thread(target=pings_agree, args=(namespace, expected(version), t0, out)))
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if keep:
                time.sleep(1.5)
                keep.stop()
                out["conntrack_last_reply"] = None if keep.last_reply is None else round(keep.last_reply - t0, 2)
            print(json.dumps({"round": index, "to": version, "writes": round(writes, 2),
                              **{k: ({s: round(v, 2) if isinstance(v, float) else v for s, v in d.items()}
                                     if isinstance(d, dict) else (round(d, 2) if isinstance(d, float) else d))
                                 for k, d in out.items()}}), flush=True)
    finally:
        core.delete_namespace(namespace)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
