"""A fleet: one ansible-playbook run converges the same intent on two lab clusters (issue 16).

The second cluster is a second lab started by the lab tooling (labctl with its own
OCPVIRT_LAB_DIR: its own lab id, so its own network namespaces, and free ports), brought down
and purged when the test ends. The playbook and inventory are the benchmark's
(bench/playbooks/fleet.yml, one inventory host per cluster, run in parallel by forks).
"""
import sys
import uuid
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_DIR / "bench"))

import reconcile_bench  # noqa: E402

SIZE = 10


@pytest.fixture(scope="module")
def second_kubeconfig(lab_kubeconfig):
    with reconcile_bench.second_lab(REPO_DIR / ".lab" / "fleet-test") as kubeconfig:
        yield kubeconfig


def test_one_playbook_run_converges_both_clusters(lab_kubeconfig, second_kubeconfig, tmp_path):
    assert Path(second_kubeconfig).resolve() != Path(lab_kubeconfig).resolve()
    run_id = uuid.uuid4().hex[:6]
    labs = [reconcile_bench.Lab(lab_kubeconfig, run_id), reconcile_bench.Lab(second_kubeconfig, run_id)]
    assert labs[0].api.configuration.host != labs[1].api.configuration.host  # two API servers
    try:
        run = reconcile_bench.fleet_run(labs, tmp_path, SIZE, "fleet")
    finally:
        for lab in labs:
            lab.delete_namespaces()
    # Each cluster holds exactly the compiled policies (read back from each API server), written
    # by its own module process, one write per policy each (dry runs are counted apart).
    assert run["cluster_matches"]
    assert run["module_processes"] == 2 and run["created"] == [SIZE + 1, SIZE + 1]
    assert run["writes"] == 2 * (SIZE + 1) and run["requests"]["PATCH dryRun"] == 2 * (SIZE + 1)
