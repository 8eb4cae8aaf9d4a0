"""Stand-in for the get-pip.py that ansible-test downloads before creating its sanity venvs.

ansible-test fetches get-pip.py from a CI file host that is not reachable here, but it first
looks in ~/.ansible/test/cache/get_pip_<version>.py; scripts/sanity.sh puts this file there.
It does what get-pip.py does with the same arguments (pip options and pinned packages such as
pip==24.2): bootstrap pip with the interpreter's own ensurepip, then let that pip install the
pinned packages from the package index.
"""
import subprocess
import sys

GET_PIP_ONLY_OPTIONS = ("--no-setuptools", "--no-wheel")


def main():
    args = sys.argv[1:]
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade"], check=True, stdout=subprocess.DEVNULL)
    pip_args = [arg for arg in args if arg not in GET_PIP_ONLY_OPTIONS]
    subprocess.run([sys.executable, "-m", "pip", "install", "--upgrade", *pip_args], check=True)
    if "--no-setuptools" in args:
        # ensurepip brings setuptools on Python < 3.12; ansible-test wants venvs without it.
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", "setuptools"], check=True)


if __name__ == "__main__":
    main()
