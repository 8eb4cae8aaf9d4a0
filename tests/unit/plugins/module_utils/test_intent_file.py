"""An intent file (multinetwork_policy's src) is read as safely as an inline intent: duplicate
keys, alias bombs, FIFOs, devices, directories, links to files that are not intents, oversized
files and reads that never end are refused, and no message quotes more than one line."""
import os
import threading
import time
from pathlib import Path

import pytest

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy import intent_file
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.errors import MultinetError
from ansible_collections.ocpvirt.multinet.plugins.module_utils.model.intent import MAX_NESTING, load_intent_text
from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.intent_file import read_intent_file

# The classic "billion laughs" in YAML (the one of issue 26 was 549 bytes; this is 356): 9 ** 9
# leaves once its aliases are expanded. Kept as .txt: a YAML linter scanning the repository
# (ansible-lint) would expand it.
ALIAS_BOMB = (Path(__file__).parents[2] / "fixtures" / "alias_bomb.txt").read_text()
INTENT = "namespace: tenant-files\nnetwork: files-net\nallow: []\n"


def refused(text, source="/srv/intent.yml"):
    with pytest.raises(MultinetError) as error:
        load_intent_text(text, source)
    return str(error.value)


def test_a_yaml_key_written_twice_is_refused_naming_the_key_and_both_lines():
    message = refused("namespace: tenant-files\nallow: []\nnetwork: files-net\nallow:\n  - {from: a, to: b}\n")
    assert message.startswith("src: key 'allow' written twice in one mapping at line 4, column 1: allow: "
                              "(first at line 2)")


def test_a_key_written_twice_in_a_nested_mapping_is_refused_too():
    message = refused("namespace: n\nworkloads:\n  web: {vm: web-1}\n  db: {vm: db-1}\n  web: {vm: web-2}\n")
    assert "key 'web' written twice" in message and "line 5" in message and "first at line 3" in message


def test_a_json_key_written_twice_is_refused_naming_the_key_and_its_line():
    text = '{"namespace": "n",\n "workloads": {"web": {"vm": "w1"},\n  "db": {"vm": "d"},\n  "web": {"vm": "w2"}}}'
    message = refused(text, "/srv/intent.json")
    assert message.startswith("src: key 'web' written twice in one mapping at line 4") and "first at line 2" in message


def test_the_same_key_in_two_mappings_is_not_a_duplicate():
    assert load_intent_text("workloads:\n  a: {vm: x}\n  b: {vm: x}\n", "i.yml") == {
        "workloads": {"a": {"vm": "x"}, "b": {"vm": "x"}}}


def test_a_yaml_merge_key_may_override_what_it_merges():
    raw = load_intent_text("base: &base {vm: x, ips: [10.9.0.1]}\nworkloads:\n  a: {<<: *base, vm: y}\n", "i.yml")
    assert raw["workloads"]["a"] == {"vm": "y", "ips": ["10.9.0.1"]}


def test_an_alias_bomb_is_refused_before_it_is_built_with_a_short_message():
    assert len(ALIAS_BOMB.encode()) < 549
    started = time.process_time()
    message = refused(ALIAS_BOMB)
    assert time.process_time() - started < 5
    assert "more than 1000000 values once its aliases are expanded" in message
    assert len(message) < 300, message


def test_an_alias_inside_its_own_anchor_is_refused():
    assert "an alias refers to a node that contains it" in refused("namespace: &a [x, *a]\n")


def test_yaml_nested_too_deeply_is_refused():
    text = "".join("{0}k{1}:\n".format("  " * level, level) for level in range(MAX_NESTING + 2)) + \
        "  " * (MAX_NESTING + 2) + "v: 1\n"
    assert "nested deeper than {0} levels".format(MAX_NESTING) in refused(text)


def test_json_nested_beyond_python_s_recursion_is_refused_with_a_message():
    text = '{"a":' * 50000 + "1" + "}" * 50000
    assert "nested deeper than" in refused(text, "/srv/intent.json")


def test_a_syntax_error_quotes_the_offending_line_only():
    text = "namespace: n\nnote: secret-one\nallow: [\n  {from: a\nnote2: secret-two\nnote3: secret-three\n"
    message = refused(text)
    quoted = [line for line in text.splitlines() if line.strip() and line.strip() in message]
    assert len(quoted) <= 1, message
    assert "at line" in message


def test_a_long_offending_line_is_shortened():
    message = refused("namespace: n\nallow: x\nallow: [" + "a, " * 500 + "]\n")
    assert "key 'allow' written twice" in message and message.count("a, ") < 40


# --- the file itself -------------------------------------------------------------------------

def write(path, text):
    path.write_text(text)
    return str(path)


def read_refused(path, **limits):
    with pytest.raises(MultinetError) as error:
        read_intent_file(str(path), **limits)
    return str(error.value)


def test_a_regular_intent_file_and_a_link_to_one_are_read(tmp_path):
    target = write(tmp_path / "tenant.yaml", INTENT)
    os.symlink(target, tmp_path / "link.yml")
    assert read_intent_file(target) == read_intent_file(str(tmp_path / "link.yml")) == {
        "namespace": "tenant-files", "network": "files-net", "allow": []}


def test_a_link_to_a_file_that_is_not_an_intent_is_refused_unread(tmp_path):
    secret = write(tmp_path / "shadow", "root:$6$not-a-real-hash-but-secret:19000:0:99999:7:::\n")
    os.symlink(secret, tmp_path / "intent.yml")
    message = read_refused(tmp_path / "intent.yml")
    assert "a link to {0}".format(secret) in message and "was not read" in message
    assert "not-a-real-hash" not in message and "root" not in message.replace(str(tmp_path), "")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused(tmp_path, device):
    os.symlink(device, tmp_path / "intent.json")
    assert "was not read" in read_refused(tmp_path / "intent.json")


def test_a_device_named_like_an_intent_is_refused_by_its_type(tmp_path, monkeypatch):
    os.symlink("/dev/zero", tmp_path / "zero.yml")
    monkeypatch.setattr(intent_file.os.path, "realpath", lambda path: path)
    assert "is a character device, not a regular file" in read_refused(tmp_path / "zero.yml")


def test_a_fifo_is_refused_without_opening_it(tmp_path):
    os.mkfifo(tmp_path / "intent.yml")
    started = time.monotonic()
    assert "is a FIFO, not a regular file" in read_refused(tmp_path / "intent.yml")
    assert time.monotonic() - started < 5


def test_a_fifo_swapped_in_after_the_check_neither_hangs_nor_is_read(tmp_path, monkeypatch):
    """The path is a regular file when checked and a FIFO (nobody writing) when opened."""
    regular = os.stat(write(tmp_path / "checked.yml", INTENT))
    os.mkfifo(tmp_path / "intent.yml")
    monkeypatch.setattr(intent_file.os, "stat", lambda path: regular)
    done = []
    reader = threading.Thread(target=lambda: done.append(read_refused(tmp_path / "intent.yml")), daemon=True)
    reader.start()
    reader.join(10)
    assert done and "is a FIFO, not a regular file" in done[0]


def test_a_file_replaced_between_the_check_and_the_open_is_refused(tmp_path, monkeypatch):
    other = os.stat(write(tmp_path / "other.yml", INTENT))
    path = write(tmp_path / "intent.yml", INTENT)
    monkeypatch.setattr(intent_file.os, "stat", lambda _path: other)
    assert "was replaced while it was being opened" in read_refused(path)


def test_a_directory_is_refused(tmp_path):
    (tmp_path / "intents.yml").mkdir()
    assert "is a directory, not a regular file" in read_refused(tmp_path / "intents.yml")


def test_a_file_larger_than_the_cap_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = write(tmp_path / "big.json", INTENT + "#" * 100 + "\n")

    def no_open(*_args):
        raise AssertionError("opened")
    monkeypatch.setattr(intent_file.os, "open", no_open)
    assert "is larger than 64 bytes" in read_refused(path, max_bytes=64)


def test_a_file_that_grows_past_the_cap_while_read_is_refused(tmp_path, monkeypatch):
    path = write(tmp_path / "grows.yml", INTENT)
    real_stat = os.stat
    monkeypatch.setattr(intent_file.os, "stat", lambda p: os.stat_result(
        real_stat(p)[:6] + (10,) + real_stat(p)[7:]))
    assert "is larger than 20 bytes" in read_refused(path, max_bytes=20)


def test_a_read_that_never_returns_fails_after_the_timeout(tmp_path, monkeypatch):
    path = write(tmp_path / "nfs.yml", INTENT)
    release = threading.Event()
    real_read = os.read

    def stuck_read(descriptor, size):
        release.wait(30)
        return real_read(descriptor, size)
    monkeypatch.setattr(intent_file.os, "read", stuck_read)
    try:
        assert "could not be read within 0.2 seconds" in read_refused(path, timeout=0.2)
    finally:
        release.set()


def test_a_file_that_is_not_utf8_is_refused_without_its_content(tmp_path):
    path = tmp_path / "latin.yml"
    path.write_bytes(b"namespace: caf\xe9-secret\n")
    message = read_refused(path)
    assert "is not UTF-8 text (byte 14 of the file)" in message and "secret" not in message


def test_a_missing_file_is_named(tmp_path):
    assert "cannot read the intent file: No such file or directory" in read_refused(tmp_path / "gone.yml")
