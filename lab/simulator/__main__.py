"""Entry point of the lab simulator: `python -m simulator --kubeconfig PATH` (cwd lab/).

Runs every simulated controller in one process until killed; logs go to stdout.
"""
import argparse
import logging
import sys
from pathlib import Path

from controlplane import profiles

from . import controllers
from .kube import Kube
from .runtime import run_forever


def main(argv=None):
    parser = argparse.ArgumentParser(prog="simulator", description=__doc__)
    parser.add_argument("--kubeconfig", required=True, help="admin kubeconfig of the lab")
    parser.add_argument("--state-dir", help="the lab's state directory (default: the kubeconfig's)")
    parser.add_argument("--upstream-crds", help="folder of the upstream CRDs (default: the lab's own)")
    parser.add_argument("--profile", default=profiles.DEFAULT, choices=sorted(profiles.PROFILES),
                        help="the lab profile (controlplane/profiles.py): what ClusterVersion reports")
    parser.add_argument("--rejected-writes-log", help="append every write the API server rejects here")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=args.log_level,
                        format="%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    kube = Kube(args.kubeconfig, args.rejected_writes_log)
    controllers.UPSTREAM_CRDS = args.upstream_crds
    controllers.PROFILE = profiles.PROFILES[args.profile]
    running = controllers.ALL_CONTROLLERS
    logging.getLogger("simulator").info("lab simulator starting %d simulated controllers "
                                        "(OVN-Kubernetes: labctl runs the real ovnkube)", len(running))
    state_dir = Path(args.state_dir or Path(args.kubeconfig).parent).resolve()
    run_forever([controller(kube, state_dir) for controller in running])


if __name__ == "__main__":
    main()
