"""The examples of README.md and docs/*.md run as written: their YAML parses, the intents in them
compile, the modules and filters they call exist and take the options given, and the commands and
text name files, make targets and tags that exist. Shipped files point at no placeholder host."""
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.ocpvirt.multinet.plugins.module_utils.policy.compiler import compile_intent

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
TOP_DIRS = "playbooks|inventory|deploy|aap|docs|roles|plugins|tests|lab|bench|scripts|molecule|meta|changelogs"
# A repository path as text names it: at the start of a word (not base/inventory/...).
PATH = re.compile(r"(?<![\w./~-])((?:{0})/[\w./-]*[\w/])".format(TOP_DIRS))
COLLECTION = "ocpvirt.multinet."


def yaml_blocks():
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for match in FENCE.finditer(text):
            if match.group(1) == "yaml":
                found.append(pytest.param(match.group(2), id="{0}:{1}".format(
                    doc.name, text[:match.start()].count("\n") + 1)))
    return found


def shell_blocks():
    return [pytest.param(match.group(2), id="{0}:{1}".format(doc.name, doc.read_text()[:match.start()].count("\n") + 1))
            for doc in DOCS for match in FENCE.finditer(doc.read_text())
            if match.group(1) in ("bash", "sh", "console")]


def is_intent(value):
    return isinstance(value, dict) and {"namespace", "network", "workloads"} <= set(value)


def doc_of(path):
    return yaml.safe_load(re.search(r'DOCUMENTATION = r"""(.*?)"""', path.read_text(), re.S).group(1))


def module_options(name):
    """The documented options of one of our modules (its DOCUMENTATION, the options of our doc
    fragments it extends, plus kubernetes.core's auth options it extends)."""
    module_doc = doc_of(ROOT / "plugins" / "modules" / (name + ".py"))
    fragments = [doc_of(ROOT / "plugins" / "doc_fragments" / (fragment[len(COLLECTION):] + ".py"))
                 for fragment in module_doc.get("extends_documentation_fragment") or []
                 if fragment.startswith(COLLECTION)]
    auth = {"kubeconfig", "context", "host", "api_key", "username", "password", "validate_certs", "ca_cert",
            "client_cert", "client_key", "proxy", "no_proxy", "proxy_headers", "persist_config", "impersonate_user",
            "impersonate_groups"}
    return set(module_doc.get("options") or {}).union(auth, *(fragment["options"] for fragment in fragments))


def filters():
    names = set()
    for path in (ROOT / "plugins" / "filter").glob("*.py"):
        names.update(re.findall(r'"([a-z_]+)":\s*\w+', path.read_text()))
        names.add(path.stem)
    return names


@pytest.mark.parametrize("text", yaml_blocks())
def test_yaml_examples_parse_and_their_intents_compile(text):
    documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    assert documents
    for document in documents:
        tasks = document if isinstance(document, list) else [document]
        for task in tasks:
            if is_intent(task):
                assert compile_intent(task)
            if not isinstance(task, dict):
                continue
            for key, args in task.items():
                if not isinstance(key, str) or not key.startswith(COLLECTION):
                    continue
                module = key[len(COLLECTION):]
                assert (ROOT / "plugins" / "modules" / (module + ".py")).exists(), key
                assert set(args) <= module_options(module), (key, set(args) - module_options(module))
                if is_intent(args.get("intent")):
                    assert compile_intent(args["intent"])
    for name in re.findall(r"ocpvirt\.multinet\.(\w+)\(", text) + re.findall(r"\|\s*ocpvirt\.multinet\.(\w+)", text):
        assert name in filters(), name


def test_the_intent_schema_example_compiles():
    """The full example of docs/intent-schema.md is an intent (the other checks rely on finding it)."""
    text = (ROOT / "docs" / "intent-schema.md").read_text()
    intents = [doc for match in FENCE.finditer(text) if match.group(1) == "yaml"
               for doc in yaml.safe_load_all(match.group(2)) if is_intent(doc)]
    assert intents and all(compile_intent(intent) for intent in intents)


@pytest.mark.parametrize("text", shell_blocks())
def test_commands_name_make_targets_and_tags_that_exist(text):
    makefile = (ROOT / "Makefile").read_text()
    for target in re.findall(r"^\$?\s*make ([\w-]+)", text, re.M):
        assert re.search(r"^{0}:".format(re.escape(target)), makefile, re.M), "make " + target
    site = (ROOT / "playbooks" / "site.yml").read_text()
    site_tags = set(re.findall(r"tags: \[([^\]]*)\]", site) and
                    ",".join(re.findall(r"tags: \[([^\]]*)\]", site)).replace(" ", "").split(","))
    for tags in re.findall(r"site\.yml[^\n]*--tags ([\w,]+)", text):
        assert set(tags.split(",")) <= site_tags, tags


def exists(path, copies):
    """A path of the repository, of every role (`meta/argument_specs.yml`), or of a copy the
    doc tells the user to make (`cp -r inventory/example inventory/mine`)."""
    for copy, source in copies.items():
        if path == copy or path.startswith(copy + "/"):
            path = source + path[len(copy):]
    roles = [role for role in (ROOT / "roles").iterdir() if role.is_dir()]
    return (ROOT / path).exists() or all((role / path).exists() for role in roles)


@pytest.mark.parametrize("doc", DOCS, ids=[doc.name for doc in DOCS])
def test_the_docs_name_only_files_that_exist(doc):
    text = doc.read_text()
    copies = {copy: source for source, copy in re.findall(r"cp -r (\S+) (\S+?)`", text)}
    missing = sorted({path for path in PATH.findall(text)
                      if "*" not in path and "<" not in path and not exists(path, copies)})
    assert missing == []


def shipped_files():
    """What a user gets: the tracked files but the test suite, the lab and the developer tools."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / name for name in tracked
            if not name.startswith(("tests/", "lab/", "bench/", "scripts/", "changelogs/fragments/"))
            and (ROOT / name).is_file()]


def test_no_shipped_file_points_at_a_placeholder_host():
    placeholder = re.compile(r"example\.invalid|https?://[\w.-]*example\.(?:com|org|net)\b(?!:6443)")
    illustrations = {"docs", "README.md", "inventory"}  # the user's own hosts, shown as examples
    found = [f"{path.relative_to(ROOT)}: {line.strip()}" for path in shipped_files()
             for line in path.read_text(errors="replace").splitlines()
             if placeholder.search(line) and (
                 "example.invalid" in line or path.relative_to(ROOT).parts[0] not in illustrations)]
    assert found == []
