// Builds etcd for the lab at the release Kubernetes v1.34 is tested with. Kept apart from
// lab/kube so the two dependency graphs cannot force each other's versions.
module github.com/ocpvirt/multinet/lab/etcd

go 1.24.0

require go.etcd.io/etcd/server/v3 v3.6.4
