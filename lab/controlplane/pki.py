"""The lab's CA, its certificates and kubeconfigs, under STATE_DIR/pki/."""
import base64
import datetime
import ipaddress
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from . import log
from .ports import apiserver_url
from .state import CLUSTER_NAME, PKI_DIR, SERVICE_CIDR


def write_private_key(path, key):
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def write_certificate(path, cert):
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def new_certificate(subject_cn, organization, issuer, issuer_key, public_key, *, is_ca=False,
                    server_names=(), client=False):
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    subject = x509.Name(attributes)
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer or subject)
               .public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True))
    if is_ca:
        builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                                        critical=True)
    else:
        usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server_names else []) + \
                 ([ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if server_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(server_names)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def server_names(*dns_names, ips=("127.0.0.1",)):
    return [x509.DNSName(n) for n in dns_names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]


def issue(ca_cert, ca_key, name, cn, organization=None, *, names=(), client=False):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = new_certificate(cn, organization, ca_cert.subject, ca_key, key.public_key(),
                           server_names=names, client=client)
    write_private_key(PKI_DIR / f"{name}.key", key)
    write_certificate(PKI_DIR / f"{name}.crt", cert)


def ensure_pki():
    if (PKI_DIR / "ca.crt").exists():
        return
    log(f"generating CA, certificates and the service-account signing key in {PKI_DIR}")
    PKI_DIR.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = new_certificate(f"{CLUSTER_NAME}-ca", None, None, ca_key, ca_key.public_key(), is_ca=True)
    # The first service IP is where in-cluster clients reach "kubernetes.default".
    first_service_ip = str(next(ipaddress.ip_network(SERVICE_CIDR).hosts()))
    issue(ca_cert, ca_key, "apiserver", "kube-apiserver",
          names=server_names("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                             "kubernetes.default.svc.cluster.local", ips=("127.0.0.1", first_service_ip)))
    issue(ca_cert, ca_key, "etcd-server", "etcd", names=server_names("localhost"))
    issue(ca_cert, ca_key, "apiserver-etcd-client", "kube-apiserver-etcd-client", client=True)
    # system:masters is the cluster-admin group that RBAC bootstraps; the lab admin is that.
    issue(ca_cert, ca_key, "admin", "lab-admin", "system:masters", client=True)
    issue(ca_cert, ca_key, "controller-manager", "system:kube-controller-manager", client=True)
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write_private_key(PKI_DIR / "sa.key", sa_key)
    (PKI_DIR / "sa.pub").write_bytes(sa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    write_private_key(PKI_DIR / "ca.key", ca_key)
    write_certificate(PKI_DIR / "ca.crt", ca_cert)  # written last: its presence means "PKI complete"


def ensure_kubelet_pki():
    """The kubelet stand-in's serving certificate and kube-apiserver's client certificate for it,
    added to a PKI made before the stand-in existed too."""
    if (PKI_DIR / "apiserver-kubelet-client.crt").exists():
        return
    ca_cert = x509.load_pem_x509_certificate((PKI_DIR / "ca.crt").read_bytes())
    ca_key = serialization.load_pem_private_key((PKI_DIR / "ca.key").read_bytes(), password=None)
    issue(ca_cert, ca_key, "kubelet", "kubelet-standin", names=server_names("localhost"))
    # kubeadm's name for the identity the apiserver presents to kubelets.
    issue(ca_cert, ca_key, "apiserver-kubelet-client", "kube-apiserver-kubelet-client", client=True)


# --- kubeconfigs --------------------------------------------------------------------------

def b64_file(path):
    return base64.b64encode(path.read_bytes()).decode()


def write_kubeconfig(path, user_name, user):
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CLUSTER_NAME, "cluster": {
            "server": apiserver_url(), "certificate-authority-data": b64_file(PKI_DIR / "ca.crt")}}],
        "users": [{"name": user_name, "user": user}],
        "contexts": [{"name": f"{user_name}@{CLUSTER_NAME}",
                      "context": {"cluster": CLUSTER_NAME, "user": user_name}}],
        "current-context": f"{user_name}@{CLUSTER_NAME}",
    }
    path.write_text(json.dumps(kubeconfig, indent=2))  # JSON is valid kubeconfig YAML
    path.chmod(0o600)
    return path


def write_cert_kubeconfig(path, cert_name, user_name):
    return write_kubeconfig(path, user_name, {
        "client-certificate-data": b64_file(PKI_DIR / f"{cert_name}.crt"),
        "client-key-data": b64_file(PKI_DIR / f"{cert_name}.key"),
    })
