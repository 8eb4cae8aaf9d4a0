// Command kubelet-standin is the lab's stand-in for the kubelet's streaming endpoints: it serves
// /exec, /run and /containerLogs (logs.go) for every simulated node, so kube-apiserver's real
// pods/exec and pods/log proxies work unchanged.
//
// It follows the kubelet's own server (k8s.io/kubernetes pkg/kubelet/server/server.go: getExec,
// getRun, getExecRequestParams) and hands the connection to the kubelet's streaming code
// (k8s.io/kubelet/pkg/cri/streaming/remotecommand.ServeExec, the code the CRI streaming server
// runs), which speaks the websocket channel protocols up to v4 (which kube-apiserver passes through)
// and SPDY/3.1 (what it translates a v5 websocket into: kubectl's, the Python client's).
//
// There are no containers: a pod's "container" is a network namespace named by its exec-target
// file <exec-targets>/pods/<namespace>/<pod>.json, {"netns": "...", "env": {...}}, and a command
// runs as `ip netns exec <netns> env <env...> <cmd...>`. A pod without a file gets the kubelet's
// error for a container it does not find. The file's optional "logs" maps a container to its log
// file (logs.go).
//
// Authentication: TLS client certificates signed by --client-ca (the kubelet's x509 authenticator);
// every authenticated client may exec (no SubjectAccessReview, as with --authorization-mode=AlwaysAllow).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/creack/pty"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	remotecommandconsts "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/kubelet/pkg/cri/streaming"
	remotecommandserver "k8s.io/kubelet/pkg/cri/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// The kubelet's default --streaming-connection-idle-timeout.
const streamIdleTimeout = 4 * time.Hour

// Target is an exec-target file: the network namespace a command runs in, its environment, and the
// log file of each container whose log the lab writes.
type Target struct {
	Netns string            `json:"netns"`
	Env   map[string]string `json:"env"`
	Logs  map[string]string `json:"logs"`
}

type targets struct{ dir string }

// lookup returns the pod's target, or nil when the pod has none (its container is not running).
func (t targets) lookup(namespace, pod string) (*Target, error) {
	if !validName(namespace) || !validName(pod) {
		return nil, nil
	}
	data, err := os.ReadFile(filepath.Join(t.dir, "pods", namespace, pod+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var target Target
	if err := json.Unmarshal(data, &target); err != nil {
		return nil, fmt.Errorf("exec target of pod %s/%s: %v", namespace, pod, err)
	}
	if target.Netns == "" {
		return nil, fmt.Errorf("exec target of pod %s/%s: field netns is empty", namespace, pod)
	}
	return &target, nil
}

// validName rejects path tricks; Kubernetes names never contain "/" or start with ".".
func validName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "/\x00") && !strings.HasPrefix(name, ".")
}

// argv is the host command for cmd in the target: ip netns exec <netns> env <K=V sorted> <cmd...>.
func (t *Target) argv(cmd []string) []string {
	keys := make([]string, 0, len(t.Env))
	for key := range t.Env {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	argv := []string{"ip", "netns", "exec", t.Netns, "env"}
	for _, key := range keys {
		argv = append(argv, key+"="+t.Env[key])
	}
	return append(argv, cmd...)
}

// executor implements remotecommandserver.Executor for one target.
type executor struct{ target *Target }

func (e executor) ExecInContainer(ctx context.Context, name string, uid types.UID, container string, cmd []string,
	in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, timeout time.Duration) error {
	argv := e.target.argv(cmd)
	command := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var err error
	if tty {
		err = runOnTerminal(command, in, out, resize)
	} else {
		if in != nil {
			command.Stdin = in
		}
		if out != nil {
			command.Stdout = out
		}
		if errOut != nil {
			command.Stderr = errOut
		}
		err = command.Run()
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return utilexec.ExitErrorWrapper{ExitError: exitErr}
	}
	return err
}

// runOnTerminal runs the command on a new pseudo-terminal, as a container runtime does for
// `exec -t`: stdin goes to it, everything it prints (stdout and stderr merged, as on any terminal)
// to out, and the client's resize events set its window size.
func runOnTerminal(command *exec.Cmd, in io.Reader, out io.Writer, resize <-chan remotecommand.TerminalSize) error {
	terminal, err := pty.Start(command)
	if err != nil {
		return err
	}
	defer terminal.Close()
	go func() {
		for size := range resize {
			pty.Setsize(terminal, &pty.Winsize{Rows: size.Height, Cols: size.Width})
		}
	}()
	if in != nil {
		go io.Copy(terminal, in)
	}
	if out == nil {
		out = io.Discard // the terminal must be read, or a command printing to it blocks
	}
	copied := make(chan struct{})
	go func() {
		io.Copy(out, terminal) // ends (EIO) once the command and its children closed the terminal
		close(copied)
	}()
	err = command.Wait()
	<-copied
	return err
}

type execParams struct {
	namespace, pod, container string
	uid                       types.UID
}

// parsePath splits /<verb>/{namespace}/{pod}[/{uid}]/{container} as the kubelet's routes do.
func parsePath(prefix, path string) (execParams, bool) {
	parts := strings.Split(strings.TrimPrefix(path, prefix), "/")
	switch len(parts) {
	case 3:
		return execParams{namespace: parts[0], pod: parts[1], container: parts[2]}, true
	case 4:
		return execParams{namespace: parts[0], pod: parts[1], uid: types.UID(parts[2]), container: parts[3]}, true
	}
	return execParams{}, false
}

func containerNotFound(container string) error {
	// kubelet_pods.go GetExec's message for a container the runtime does not report.
	return fmt.Errorf("container not found (%q)", container)
}

type server struct{ targets targets }

func (s server) exec(w http.ResponseWriter, req *http.Request) {
	params, ok := parsePath("/exec/", req.URL.Path)
	if !ok {
		http.NotFound(w, req)
		return
	}
	opts, err := remotecommandserver.NewOptions(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	target, err := s.targets.lookup(params.namespace, params.pod)
	if err == nil && target == nil {
		err = containerNotFound(params.container)
	}
	if err != nil {
		log.Printf("exec %s/%s/%s: %v", params.namespace, params.pod, params.container, err)
		streaming.WriteError(err, w)
		return
	}
	cmd := req.URL.Query()[corev1.ExecCommandParam]
	// SPDY offers its protocols in X-Stream-Protocol-Version, a websocket in Sec-Websocket-Protocol.
	protocols := append(req.Header.Values("X-Stream-Protocol-Version"), req.Header.Values("Sec-Websocket-Protocol")...)
	log.Printf("exec %s/%s/%s in netns %s over %s %q: %q", params.namespace, params.pod, params.container, target.Netns,
		req.Header.Get("Upgrade"), protocols, cmd)
	remotecommandserver.ServeExec(w, req, executor{target}, params.pod, params.uid, params.container, cmd, opts,
		streamIdleTimeout, remotecommandconsts.DefaultStreamCreationTimeout, remotecommandconsts.SupportedStreamingProtocols)
}

// run is the kubelet's legacy /run: the command (query "cmd", split on spaces) with combined output.
func (s server) run(w http.ResponseWriter, req *http.Request) {
	params, ok := parsePath("/run/", req.URL.Path)
	if !ok {
		http.NotFound(w, req)
		return
	}
	target, err := s.targets.lookup(params.namespace, params.pod)
	if err == nil && target == nil {
		err = containerNotFound(params.container)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	argv := target.argv(strings.Split(req.FormValue("cmd"), " "))
	output, err := exec.CommandContext(req.Context(), argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		http.Error(w, fmt.Sprintf("%v: %s", err, output), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write(output)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:10250", "address to serve on")
	certFile := flag.String("tls-cert-file", "", "serving certificate (PEM)")
	keyFile := flag.String("tls-private-key-file", "", "serving key (PEM)")
	clientCA := flag.String("client-ca-file", "", "CA that signs accepted client certificates")
	targetDir := flag.String("exec-targets", "", "directory holding pods/<namespace>/<pod>.json exec targets")
	flag.Parse()
	if *certFile == "" || *keyFile == "" || *clientCA == "" || *targetDir == "" {
		log.Fatal("--tls-cert-file, --tls-private-key-file, --client-ca-file and --exec-targets are required")
	}
	caPEM, err := os.ReadFile(*clientCA)
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		log.Fatalf("--client-ca-file %s: no certificate found", *clientCA)
	}
	s := server{targets{*targetDir}}
	mux := http.NewServeMux()
	mux.HandleFunc("/exec/", s.exec)
	mux.HandleFunc("/run/", s.run)
	mux.HandleFunc("/containerLogs/", s.containerLogs)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	httpServer := &http.Server{
		Addr:    *listen,
		Handler: mux,
		TLSConfig: &tls.Config{ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert,
			MinVersion: tls.VersionTLS12},
		// Streams upgrade an HTTP/1.1 connection (SPDY, websocket): never negotiate HTTP/2.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	log.Printf("kubelet stand-in serving /exec, /run and /containerLogs on https://%s (exec targets in %s)", *listen, *targetDir)
	log.Fatal(httpServer.ListenAndServeTLS(*certFile, *keyFile))
}
