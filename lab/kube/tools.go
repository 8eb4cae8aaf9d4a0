//go:build tools

// Package tools keeps the upstream command packages in go.mod/go.sum: the lab builds
// k8s.io/kubernetes/cmd/kube-apiserver and cmd/kube-controller-manager directly.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)
