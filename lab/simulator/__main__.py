"""Entry point of the lab simulator (cwd lab/):
`python -m simulator --kubeconfig PATH --state-dir DIR --kubelet-port PORT`.

Runs every simulated controller in one process until killed; logs go to stdout.
"""
import argparse
import logging
import sys
from pathlib import Path

from .controllers import ALL_CONTROLLERS
from .kube import Kube
from .runtime import Lab, run_forever


def main(argv=None):
    parser = argparse.ArgumentParser(prog="simulator", description=__doc__)
    parser.add_argument("--kubeconfig", required=True, help="admin kubeconfig of the lab")
    parser.add_argument("--state-dir", required=True, type=Path, help="labctl's state directory")
    parser.add_argument("--kubelet-port", required=True, type=int, help="port of the kubelet stand-in")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=args.log_level,
                        format="%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    kube = Kube(args.kubeconfig)
    logging.getLogger("simulator").info("lab simulator starting %d simulated controllers", len(ALL_CONTROLLERS))
    lab = Lab(args.state_dir, args.kubelet_port)
    run_forever([controller(kube, lab) for controller in ALL_CONTROLLERS])


if __name__ == "__main__":
    main()
