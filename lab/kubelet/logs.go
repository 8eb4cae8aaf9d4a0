package main

// The kubelet's /containerLogs/{podNamespace}/{podID}/{containerName}, as kube-apiserver's pods/log
// proxies `kubectl logs` (and the Python client's read_namespaced_pod_log) to it.
//
// The request handling follows k8s.io/kubernetes v1.34.4 pkg/kubelet/server/server.go getContainerLogs
// (the legacy `tail` parameter, the query decoded into a v1.PodLogOptions, its validation, the pod and
// container lookups, `stream` refused while the PodLogsQuerySplitStreams gate is off, its default) and
// pkg/kubelet/kubelet_pods.go validateContainerLogStatus (`previous`); the log file is read by the
// kubelet's own reader, k8s.io/cri-client/pkg/logs.ReadLogs (what kuberuntime's GetContainerLogs
// calls), so tailLines, limitBytes, sinceSeconds, sinceTime, timestamps and follow behave as on a node.
//
// A container's log is the file its pod's exec target names under "logs" (the CRI format the
// runtime writes on a node, /var/log/pods/...: `<RFC3339Nano time> <stdout|stderr> <F|P> <text>`).
// The lab writes such files only for the containers whose log it emulates; a container its pod's
// target does not name gets the kubelet's error for a container the pod does not have.

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/util/flushwriter"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-client/pkg/logs"
	"k8s.io/klog/v2"
)

// decodeLogOptions is the generated conversion url.Values -> v1.PodLogOptions
// (pkg/apis/core/v1/zz_generated.conversion.go autoConvert_url_Values_To_v1_PodLogOptions), with
// the same apimachinery converters per field, after server.go's handling of the legacy `tail`.
func decodeLogOptions(query url.Values) (*corev1.PodLogOptions, error) {
	if tail := query.Get("tail"); tail != "" {
		query["tailLines"] = []string{tail}
		if tail == "all" { // "all" is the same as omitting tail
			delete(query, "tailLines")
		}
	}
	opts := &corev1.PodLogOptions{}
	bools := map[string]*bool{"follow": &opts.Follow, "previous": &opts.Previous, "timestamps": &opts.Timestamps,
		"insecureSkipTLSVerifyBackend": &opts.InsecureSkipTLSVerifyBackend}
	ints := map[string]**int64{"sinceSeconds": &opts.SinceSeconds, "tailLines": &opts.TailLines,
		"limitBytes": &opts.LimitBytes}
	for key, out := range bools {
		if values := query[key]; len(values) > 0 {
			runtime.Convert_Slice_string_To_bool(&values, out, nil)
		}
	}
	for key, out := range ints {
		if values := query[key]; len(values) > 0 {
			if err := runtime.Convert_Slice_string_To_Pointer_int64(&values, out, nil); err != nil {
				return nil, err
			}
		}
	}
	if values := query["sinceTime"]; len(values) > 0 {
		if err := metav1.Convert_Slice_string_To_Pointer_v1_Time(&values, &opts.SinceTime, nil); err != nil {
			return nil, err
		}
	}
	if values := query["stream"]; len(values) > 0 {
		opts.Stream = &values[0]
	}
	return opts, nil
}

// validLogOptions is pkg/apis/core/validation ValidatePodLogOptions without stream selection.
func validLogOptions(opts *corev1.PodLogOptions) bool {
	switch {
	case opts.TailLines != nil && *opts.TailLines < 0,
		opts.LimitBytes != nil && *opts.LimitBytes < 1,
		opts.SinceSeconds != nil && opts.SinceTime != nil,
		opts.SinceSeconds != nil && *opts.SinceSeconds < 1:
		return false
	}
	return true
}

// containerState answers kubelet's log reader (logs.ReadLogs asks only ContainerStatus, while
// following): the container runs as long as its pod's exec target names its log.
type containerState struct {
	internalapi.RuntimeService
	targets                   targets
	namespace, pod, container string
}

func (c containerState) ContainerStatus(context.Context, string, bool) (*runtimeapi.ContainerStatusResponse, error) {
	state := runtimeapi.ContainerState_CONTAINER_EXITED
	if target, err := c.targets.lookup(c.namespace, c.pod); err == nil && target != nil && target.Logs[c.container] != "" {
		state = runtimeapi.ContainerState_CONTAINER_RUNNING
	}
	return &runtimeapi.ContainerStatusResponse{Status: &runtimeapi.ContainerStatus{State: state}}, nil
}

// kubelet's response.WriteError(status, err): the error's text as a plain-text body.
func writeError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	fmt.Fprint(w, err.Error())
}

func (s server) containerLogs(w http.ResponseWriter, req *http.Request) {
	params, ok := parsePath("/containerLogs/", req.URL.Path)
	if !ok || params.uid != "" {
		http.NotFound(w, req)
		return
	}
	opts, err := decodeLogOptions(req.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, errors.New(`{"message": "Unable to decode query."}`))
		return
	}
	if !validLogOptions(opts) {
		writeError(w, http.StatusUnprocessableEntity, errors.New(`{"message": "Invalid request."}`))
		return
	}
	target, err := s.targets.lookup(params.namespace, params.pod)
	if err != nil || target == nil {
		writeError(w, http.StatusNotFound, fmt.Errorf("pod %q does not exist", params.pod))
		return
	}
	path := target.Logs[params.container]
	if path == "" {
		writeError(w, http.StatusNotFound, fmt.Errorf("container %q not found in pod %q", params.container, params.pod))
		return
	}
	if opts.Stream != nil && *opts.Stream != corev1.LogStreamAll { // PodLogsQuerySplitStreams: alpha, off
		writeError(w, http.StatusBadRequest, fmt.Errorf("unable to return the given log stream: %q. Please enable "+
			"PodLogsQuerySplitStreams feature gate in kubelet", *opts.Stream))
		return
	}
	if opts.Previous { // the lab's containers never restarted: no terminated instance
		writeError(w, http.StatusBadRequest, fmt.Errorf("previous terminated container %q in pod %q not found",
			params.container, params.pod))
		return
	}
	log.Printf("containerLogs %s/%s/%s from %s: %s", params.namespace, params.pod, params.container, path, req.URL.RawQuery)
	w.Header().Set("Transfer-Encoding", "chunked")
	out := flushwriter.Wrap(w)
	state := containerState{targets: s.targets, namespace: params.namespace, pod: params.pod, container: params.container}
	logger := klog.Background()
	if err := logs.ReadLogs(req.Context(), &logger, path, params.container, logs.NewLogOptions(opts, time.Now()),
		state, out, out); err != nil {
		writeError(w, http.StatusBadRequest, err)
	}
}
