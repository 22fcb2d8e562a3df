// Package weaviatetest starts a real Weaviate server on loopback for tests: the pinned weaviate-server that
// scripts/install-tools.sh installs into the ragnb tools cache, on free ports, with a temporary data path,
// anonymous access and no vectorizer module; it is killed when the test ends. Without the binary a test is
// skipped with the command that installs it, except under CI=true, where it fails.
package weaviatetest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ragnb/ragnb/retrieval/weaviate"
)

// Server is a running weaviate-server.
type Server struct {
	// URL is the REST base URL (http://127.0.0.1:PORT).
	URL string
	// DataDir is the persistence path.
	DataDir string

	cmd *exec.Cmd
	log *syncBuffer
}

// Log is what the server wrote so far (for failure messages).
func (s *Server) Log() string { return s.log.String() }

// Start starts a server for t and waits until it is ready; t.Cleanup kills it.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := weaviate.ServerBinary()
	if _, err := os.Stat(bin); err != nil {
		msg := fmt.Sprintf("weaviate-server %s not found at %s (install it with scripts/install-tools.sh)", weaviate.ServerVersion, bin)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ports := freePorts(t, 6)
	data := t.TempDir()
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", strconv.Itoa(ports[0]), "--scheme", "http")
	cmd.Env = append(os.Environ(),
		"PERSISTENCE_DATA_PATH="+data,
		"AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true",
		"DEFAULT_VECTORIZER_MODULE=none",
		"DISABLE_TELEMETRY=true",
		"LOG_LEVEL=warning",
		"CLUSTER_HOSTNAME=node1",
		"CLUSTER_ADVERTISE_ADDR=127.0.0.1",
		"CLUSTER_BIND_ADDR=127.0.0.1",
		"CLUSTER_GOSSIP_BIND_PORT="+strconv.Itoa(ports[1]),
		"CLUSTER_DATA_BIND_PORT="+strconv.Itoa(ports[2]),
		"RAFT_PORT="+strconv.Itoa(ports[3]),
		"RAFT_INTERNAL_RPC_PORT="+strconv.Itoa(ports[4]),
		"RAFT_JOIN=node1:"+strconv.Itoa(ports[3]),
		"RAFT_BOOTSTRAP_EXPECT=1",
		"GRPC_PORT="+strconv.Itoa(ports[5]),
		// One query may list every object (tests compare whole collections).
		"QUERY_MAXIMUM_RESULTS=100000",
		"GOMAXPROCS=2",
	)
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", ports[0]), DataDir: data, cmd: cmd, log: log}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("weaviate-server exited before it was ready (%v):\n%s", err, tail(log.String(), 3000))
		default:
		}
		resp, err := http.Get(s.URL + "/v1/.well-known/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("weaviate-server not ready after 90 s:\n%s", tail(log.String(), 3000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// freePorts asks the kernel for n distinct free loopback ports (listening on all at once so none repeats).
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, n)
	for i := range n {
		l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
