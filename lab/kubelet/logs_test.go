package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A CRI-format log (what the lab writes for ovnkube-controller): one old line, two recent ones.
func logServer(t *testing.T) (server, string) {
	t.Helper()
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano)
	recent := time.Now().UTC().Format(time.RFC3339Nano)
	logFile := filepath.Join(dir, "ctl.log")
	os.WriteFile(logFile, []byte(old+" stderr F I0101 one\n"+recent+" stderr F I0101 two\n"+recent+" stdout F three\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "pods", "ns"), 0o755)
	target, _ := json.Marshal(Target{Netns: "n1", Logs: map[string]string{"ctl": logFile}})
	os.WriteFile(filepath.Join(dir, "pods", "ns", "pod.json"), target, 0o644)
	return server{targets{dir}}, recent
}

func get(s server, path string) (int, string) {
	recorder := httptest.NewRecorder()
	s.containerLogs(recorder, httptest.NewRequest(http.MethodGet, path, nil))
	return recorder.Code, recorder.Body.String()
}

func TestContainerLogsOptions(t *testing.T) {
	s, recent := logServer(t)
	cases := map[string]string{
		"":                 "I0101 one\nI0101 two\nthree\n",
		"?tailLines=2":     "I0101 two\nthree\n",
		"?tail=1":          "three\n",
		"?tail=all":        "I0101 one\nI0101 two\nthree\n",
		"?tailLines=0":     "",
		"?limitBytes=12":   "I0101 one\nI0",
		"?sinceSeconds=60": "I0101 two\nthree\n",
	}
	for query, want := range cases {
		if code, body := get(s, "/containerLogs/ns/pod/ctl"+query); code != 200 || body != want {
			t.Errorf("%s: got %d %q, want %q", query, code, body, want)
		}
	}
	// timestamps: the line's own time, in the kubelet's fixed-width RFC3339Nano, before the text
	stamp, _ := time.Parse(time.RFC3339Nano, recent)
	want := stamp.Format("2006-01-02T15:04:05.000000000Z07:00") + " three\n"
	if code, body := get(s, "/containerLogs/ns/pod/ctl?tailLines=1&timestamps=true"); code != 200 || body != want {
		t.Errorf("timestamps: got %d %q, want %q", code, body, want)
	}
}

func TestContainerLogsErrorsAreTheKubelets(t *testing.T) {
	s, _ := logServer(t)
	since := url.QueryEscape(time.Now().Format(time.RFC3339))
	cases := map[string]struct {
		code int
		body string
	}{
		"/containerLogs/ns/pod/ctl?tailLines=x":                       {400, `{"message": "Unable to decode query."}`},
		"/containerLogs/ns/pod/ctl?tailLines=-1":                      {422, `{"message": "Invalid request."}`},
		"/containerLogs/ns/pod/ctl?limitBytes=0":                      {422, `{"message": "Invalid request."}`},
		"/containerLogs/ns/pod/ctl?sinceSeconds=5&sinceTime=" + since: {422, `{"message": "Invalid request."}`},
		"/containerLogs/ns/nopod/ctl":                                 {404, `pod "nopod" does not exist`},
		"/containerLogs/ns/pod/other":                                 {404, `container "other" not found in pod "pod"`},
		"/containerLogs/ns/pod/ctl?previous=true":                     {400, `previous terminated container "ctl" in pod "pod" not found`},
		"/containerLogs/ns/pod/ctl?stream=Stdout":                     {400, `unable to return the given log stream: "Stdout". Please enable PodLogsQuerySplitStreams feature gate in kubelet`},
	}
	for path, want := range cases {
		if code, body := get(s, path); code != want.code || body != want.body {
			t.Errorf("%s: got %d %q, want %d %q", path, code, body, want.code, want.body)
		}
	}
}

func TestContainerStateFollowsTheTarget(t *testing.T) {
	s, _ := logServer(t)
	running := containerState{targets: s.targets, namespace: "ns", pod: "pod", container: "ctl"}
	if status, _ := running.ContainerStatus(nil, "ctl", false); status.Status.State.String() != "CONTAINER_RUNNING" {
		t.Fatalf("got %v", status.Status.State)
	}
	gone := containerState{targets: s.targets, namespace: "ns", pod: "nopod", container: "ctl"}
	if status, _ := gone.ContainerStatus(nil, "ctl", false); status.Status.State.String() != "CONTAINER_EXITED" {
		t.Fatalf("got %v", status.Status.State)
	}
}
