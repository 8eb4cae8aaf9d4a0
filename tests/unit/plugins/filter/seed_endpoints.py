"""The seed's network and endpoints in the shape the connectivity filters take, shared by their tests."""

NETWORK = "llm-demo/llm-demo-localnet-network"


def endpoint(name, ip, labels=None):
    """An endpoint of the seed's namespace; without labels, an address outside the cluster."""
    if labels is None:
        return {"name": name, "ip": ip}
    return {"name": name, "ip": ip, "namespace": "llm-demo", "labels": labels}


ENDPOINTS = [
    endpoint("tinypod", "192.168.77.91", {"app": "tinypod"}),
    endpoint("tinypod-01", "192.168.77.92", {"app": "tinypod-01"}),
    endpoint("test-vm", "192.168.77.10"),
]
