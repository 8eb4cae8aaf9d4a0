#!/usr/bin/env bash
# ansible-test sanity, run the way ansible-test documents it: from a copy of the collection at
# .cache/ansible_collections/ocpvirt/multinet (see stage_collection.py for what is copied).
# Each sanity test gets its own virtualenv with ansible-test's pinned requirements, installed
# from PyPI on first use and cached in ~/.ansible/test/venv afterwards.
# Extra arguments go to ansible-test, e.g.: scripts/sanity.sh --test pylint plugins/
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="$repo/.venv/bin"
export PATH="$bin:$PATH"

# ansible-test bootstraps pip in its venvs with a get-pip.py from a host not reachable here; it
# uses a cached copy when there is one, so provide our stand-in under the name it looks for.
pip_version="$("$bin/python" -c 'import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="3.11"))["pip"])')"
get_pip_cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [[ ! -f "$get_pip_cache" ]]; then
  mkdir -p "$(dirname "$get_pip_cache")"
  cp "$repo/scripts/get_pip_offline.py" "$get_pip_cache"
fi

# One run at a time: the staged copy is rebuilt from scratch on each run.
mkdir -p "$repo/.cache"
exec 9>"$repo/.cache/sanity.lock"
flock 9

collection="$("$bin/python" "$repo/scripts/stage_collection.py" --root "$repo/.cache")"
cd "$collection"
"$bin/ansible-test" sanity --python 3.11 --local --color no "$@"
