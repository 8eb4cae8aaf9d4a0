package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParsePath(t *testing.T) {
	params, ok := parsePath("/exec/", "/exec/ns/pod/ctr")
	if !ok || params != (execParams{namespace: "ns", pod: "pod", container: "ctr"}) {
		t.Fatalf("got %+v %v", params, ok)
	}
	params, ok = parsePath("/exec/", "/exec/ns/pod/uid-1/ctr")
	if !ok || params.uid != "uid-1" || params.container != "ctr" {
		t.Fatalf("got %+v %v", params, ok)
	}
	if _, ok := parsePath("/exec/", "/exec/ns/pod"); ok {
		t.Fatal("a path without container was accepted")
	}
}

func TestArgvSortsEnvironment(t *testing.T) {
	target := &Target{Netns: "n1", Env: map[string]string{"OVS_RUNDIR": "/b", "OVN_RUNDIR": "/a"}}
	want := []string{"ip", "netns", "exec", "n1", "env", "OVN_RUNDIR=/a", "OVS_RUNDIR=/b", "sh", "-c", "exit 3"}
	if got := target.argv([]string{"sh", "-c", "exit 3"}); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q", got)
	}
}

func TestLookup(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pods", "ns"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "pods", "ns", "good.json"), []byte(`{"netns": "n1", "env": {"A": "1"}}`), 0o644)
	os.WriteFile(filepath.Join(dir, "pods", "ns", "empty.json"), []byte(`{"env": {}}`), 0o644)
	store := targets{dir}
	if target, err := store.lookup("ns", "good"); err != nil || target.Netns != "n1" || target.Env["A"] != "1" {
		t.Fatalf("good: %+v %v", target, err)
	}
	if target, err := store.lookup("ns", "missing"); err != nil || target != nil {
		t.Fatalf("missing: %+v %v", target, err)
	}
	if _, err := store.lookup("ns", "empty"); err == nil {
		t.Fatal("a target without netns was accepted")
	}
	if target, _ := store.lookup("..", "pods"); target != nil {
		t.Fatal("path traversal was followed")
	}
}
