"""site.yml's switch stage in check mode with --diff shows the change of spec.useMultiNetworkPolicy and
our record annotation, not the API server's bookkeeping (managedFields, generation, ...), as the
bridge_mapping stage's diff does; on the lab's network.operator.openshift.io/cluster. Check mode
writes nothing."""
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from kubernetes import client

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TASK = ("TASK [ocpvirt.multinet.multinetwork_policy_switch : Set spec.useMultiNetworkPolicy, recording the value "
        "before our first change, with a JSON patch]")


def test_the_switch_diff_shows_only_what_we_change(lab_kubeconfig, lab_api, tmp_path):
    network = client.CustomObjectsApi(lab_api).get_cluster_custom_object(
        "operator.openshift.io", "v1", "networks", "cluster")
    wanted = not network["spec"].get("useMultiNetworkPolicy", False)  # a change, so there is a diff
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"clusters": {"hosts": {"relay-lab": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "K8S_AUTH_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"), NO_COLOR="1")
    done = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(tmp_path / "hosts.yml"), "playbooks/site.yml",
                           "--tags", "switch", "--check", "--diff", "-e", json.dumps({
                               "multinet_kubeconfig": lab_kubeconfig, "multinetwork_policy_switch_enabled": wanted})],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=600)

    assert done.returncode == 0, done.stdout[-4000:]
    diff = done.stdout.split(TASK)[1].split("TASK [")[0]
    assert "+        useMultiNetworkPolicy: {0}".format(str(wanted).lower()) in diff, diff
    for noise in ("managedFields", "uid:", "creationTimestamp", "time:", "resourceVersion", "generation:", "status:"):
        assert noise not in diff, "{0} in the diff: {1}".format(noise, diff)
