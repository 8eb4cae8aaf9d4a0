"""The lab simulator: Python controllers that act like the parts of an OpenShift cluster of the lab
profile's era (4.15 or 4.18) that the lab's real kube-apiserver lacks (OLM, NMState, the network
operator, OpenShift Virtualization, CDI, kubemacpool, a scheduler/kubelet/Multus stand-in). Everything here is simulated; see the
"What is simulated" section of lab/README.md. Started by `lab/labctl.py up` as
`python -m simulator --kubeconfig <path>` with lab/ as working directory.
"""
