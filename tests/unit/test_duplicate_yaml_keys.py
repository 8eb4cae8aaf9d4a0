"""An intent file with a key written twice fails the run instead of keeping the last value.

Ansible loads the intent (vars files, ``-e @file``, inventories); the repository's ansible.cfg
sets ``duplicate_dict_key = error``, so ``allow`` written twice is refused, naming the key.
"""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE = Path(sys.executable).with_name("ansible")


def run_with_vars(tmp_path, text):
    vars_file = tmp_path / "intent.yml"
    vars_file.write_text(text)
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    return subprocess.run([str(ANSIBLE), "localhost", "-m", "debug", "-a", "var=intent", "-e", "@" + str(vars_file)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_a_key_written_twice_in_an_intent_file_is_refused(tmp_path):
    done = run_with_vars(tmp_path, "intent:\n  allow: []\n  allow: {}\n")

    assert done.returncode != 0
    assert "duplicate mapping key 'allow'" in done.stdout + done.stderr


def test_the_same_file_without_the_duplicate_is_read(tmp_path):
    done = run_with_vars(tmp_path, "intent:\n  allow: []\n")

    assert done.returncode == 0, done.stdout + done.stderr
