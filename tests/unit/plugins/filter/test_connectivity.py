"""The connectivity filter shim: argument validation, errors, and a Jinja2 round trip."""
import os
import subprocess
import sys

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.ocpvirt.multinet.plugins.filter import connectivity as plugin

from .seed_endpoints import ENDPOINTS, NETWORK

# tests/conftest.py links the work tree there as ansible_collections/ocpvirt/multinet.
COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".venv", "collections"))
SEED = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "seed_policies")


def seed_policies(*names):
    docs = []
    for name in names:
        with open(os.path.join(SEED, name)) as handle:
            docs.extend(doc for doc in yaml.safe_load_all(handle) if doc)
    return docs


POLICIES = seed_policies("multi-network-policy-deny-all.yaml", "multi-network-policy-allow-some.yaml")


def test_registered_under_its_documented_name():
    assert plugin.FilterModule().filters() == {"connectivity": plugin.connectivity}
    assert yaml.safe_load(plugin.DOCUMENTATION)["name"] == "connectivity"


def test_keyword_call_returns_the_matrix():
    rows = plugin.connectivity(POLICIES, network=NETWORK, endpoints=ENDPOINTS)
    assert [(r["from"], r["to"], r["allowed"]) for r in rows] == [
        ("tinypod", "tinypod-01", False),
        ("tinypod", "test-vm", False),
        ("tinypod-01", "tinypod", True),
        ("tinypod-01", "test-vm", False),
        ("test-vm", "tinypod", False),
        ("test-vm", "tinypod-01", False),
    ]


def test_port_and_ipam_are_passed_through():
    rows = plugin.connectivity(POLICIES, NETWORK, ENDPOINTS, "tcp/22", True)
    assert rows[0]["reason"].endswith("on tcp/22")


def test_missing_required_argument_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="connectivity: missing required arguments: endpoints"):
        plugin.connectivity(POLICIES, network=NETWORK)


def test_wrong_argument_type_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="connectivity: .*endpoints"):
        plugin.connectivity(POLICIES, network=NETWORK, endpoints="tinypod")


def test_domain_error_becomes_filter_error_naming_field_and_value():
    with pytest.raises(AnsibleFilterError) as error:
        plugin.connectivity(POLICIES, network="llm-demo-localnet-network", endpoints=ENDPOINTS)
    assert str(error.value).startswith(
        "connectivity: network: must be '<namespace>/<nad name>' (got 'llm-demo-localnet-network')")


PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars:
    policies: "{{ lookup('ansible.builtin.file', seed ~ '/multi-network-policy-deny-all.yaml') | ansible.builtin.from_yaml_all
                  + lookup('ansible.builtin.file', seed ~ '/multi-network-policy-allow-some.yaml') | ansible.builtin.from_yaml_all }}"
    endpoints:
      - {name: tinypod, ip: 192.168.77.91, namespace: llm-demo, labels: {app: tinypod}}
      - {name: tinypod-01, ip: 192.168.77.92, namespace: llm-demo, labels: {app: tinypod-01}}
      - {name: test-vm, ip: 192.168.77.10}
  tasks:
    - name: Only tinypod-01 may open a connection
      ansible.builtin.assert:
        that: >-
          policies | select | ocpvirt.multinet.connectivity(network='llm-demo/llm-demo-localnet-network',
          endpoints=endpoints) | selectattr('allowed') | map(attribute='from') | list == ['tinypod-01']
"""


def test_usable_from_a_playbook(tmp_path):
    """Through ansible-playbook, so Ansible's own (tagged) values reach the filter."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(playbook),
         "-e", "seed=" + os.path.abspath(SEED)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok=1" in result.stdout
