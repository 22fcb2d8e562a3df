// Package browser drives Debian's headless Chromium from tests through chromedriver's WebDriver protocol (plain
// JSON over HTTP, so no module is needed): open a page, run JavaScript in it, wait for a condition, press keys
// on an element, click it, and save screenshots. It also starts a Jupyter notebook server on loopback for the
// notebook tests. It owns no assertions about pages; the tests do.
package browser

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Debian's paths (apt-get install chromium chromium-driver; scripts/install-tools.sh installs them).
const (
	Chromium     = "/usr/bin/chromium"
	Chromedriver = "/usr/bin/chromedriver"
)

// EnvShots names a directory that keeps the screenshots after the test (default: the test's temporary one).
const EnvShots = "RAGNB_BROWSER_SHOTS"

// Require skips the test when Chromium or chromedriver is missing, and fails it instead under CI=true, where
// the browser test must run.
func Require(t testing.TB) {
	t.Helper()
	for _, p := range []string{Chromium, Chromedriver} {
		if _, err := os.Stat(p); err != nil {
			msg := fmt.Sprintf("%s is missing: install it with scripts/install-tools.sh (apt-get install chromium chromium-driver)", p)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// Browser is one WebDriver session of headless Chromium.
type Browser struct {
	t       testing.TB
	base    string // chromedriver's URL
	session string
	// Shots is where Screenshot writes: the test's temporary directory, or $RAGNB_BROWSER_SHOTS when set (to
	// keep them after the test); Taken lists what it wrote.
	Shots string
	Taken []string
}

// Start runs chromedriver on a free loopback port and opens a headless Chromium session of the given window
// size; both end with the test. On failure the test's log lists the screenshots taken.
func Start(t testing.TB, width, height int) *Browser {
	t.Helper()
	Require(t)
	port := FreePort(t)
	cmd := exec.Command(Chromedriver, fmt.Sprintf("--port=%d", port))
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromedriver: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	b := &Browser{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), Shots: os.Getenv(EnvShots)}
	if b.Shots == "" {
		b.Shots = t.TempDir()
	} else if err := os.MkdirAll(b.Shots, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WaitHTTP(b.base+"/status", 30*time.Second); err != nil {
		t.Fatalf("chromedriver did not answer: %v\n%s", err, log.String())
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{"binary": Chromium, "args": []string{"--headless=new", "--no-sandbox",
			"--disable-gpu", "--disable-dev-shm-usage", fmt.Sprintf("--window-size=%d,%d", width, height)}},
	}}}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call("POST", "/session", caps, &created); err != nil {
		t.Fatalf("new chromium session: %v\n%s", err, log.String())
	}
	b.session = created.SessionID
	t.Cleanup(func() {
		b.call("DELETE", "/session/"+b.session, nil, nil)
		if t.Failed() && len(b.Taken) > 0 {
			t.Logf("screenshots:\n  %s", strings.Join(b.Taken, "\n  "))
		}
	})
	return b
}

// call sends one WebDriver command and decodes its "value" into out.
func (b *Browser) call(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, b.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("webdriver %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var reply struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &reply); err != nil {
		return fmt.Errorf("webdriver %s %s: %w: %.300s", method, path, err, data)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("webdriver %s %s: %s: %.600s", method, path, resp.Status, reply.Value)
	}
	if out != nil {
		return json.Unmarshal(reply.Value, out)
	}
	return nil
}

func (b *Browser) sessionPath(p string) string { return "/session/" + b.session + p }

// Open navigates to url and waits for the page to load.
func (b *Browser) Open(url string) {
	b.t.Helper()
	if err := b.call("POST", b.sessionPath("/url"), map[string]any{"url": url}, nil); err != nil {
		b.t.Fatalf("open %s: %v", url, err)
	}
}

// JS runs script (a function body: use `return` and arguments[i]) in the page and decodes its result into out
// (nil ignores it).
func (b *Browser) JS(out any, script string, args ...any) error {
	if args == nil {
		args = []any{}
	}
	return b.call("POST", b.sessionPath("/execute/sync"), map[string]any{"script": script, "args": args}, out)
}

// Wait runs script every half second until it returns true or the time is up; it returns how long it took.
func (b *Browser) Wait(what, script string, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	var lastErr error
	for time.Since(start) < timeout {
		var ok bool
		if lastErr = b.JS(&ok, script); lastErr == nil && ok {
			return time.Since(start), nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return time.Since(start), fmt.Errorf("waited %v for %s (last error: %v)", timeout, what, lastErr)
}

// Element is a WebDriver element reference.
type Element string

// Find returns the first element matching the CSS selector.
func (b *Browser) Find(css string) (Element, error) {
	var ref map[string]string
	if err := b.call("POST", b.sessionPath("/element"), map[string]any{"using": "css selector", "value": css}, &ref); err != nil {
		return "", err
	}
	for _, v := range ref {
		return Element(v), nil
	}
	return "", fmt.Errorf("no element %q", css)
}

// Keys are WebDriver's codes for special keys.
const (
	KeyLeft  = "\uE012"
	KeyRight = "\uE014"
)

// Type sends keystrokes to the element, as a user typing with it focused.
func (b *Browser) Type(e Element, keys string) error {
	return b.call("POST", b.sessionPath("/element/"+string(e)+"/value"), map[string]any{"text": keys}, nil)
}

// Click clicks the element.
func (b *Browser) Click(e Element) error {
	return b.call("POST", b.sessionPath("/element/"+string(e)+"/click"), map[string]any{}, nil)
}

// Screenshot saves the viewport as Shots/name.png and returns the path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	var data string
	if err := b.call("GET", b.sessionPath("/screenshot"), nil, &data); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	png, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(b.Shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	b.Taken = append(b.Taken, path)
	return path
}

// FreePort is a loopback TCP port free at the time of asking.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitHTTP polls url until it answers (any status) or the time is up.
func WaitHTTP(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Jupyter is a notebook server started for a test.
type Jupyter struct {
	// URL is the server's base URL; Token its access token (random, never logged).
	URL, Token string
}

// NotebookURL is the address of the notebook at rel (relative to the server's directory), token included.
func (j *Jupyter) NotebookURL(rel string) string {
	return j.URL + "/notebooks/" + filepath.ToSlash(rel) + "?token=" + j.Token
}

// StartJupyter serves dir with Debian's classic notebook server on a free loopback port, with a random token,
// JUPYTER_DATA_DIR=dataDir (its kernelspecs and the secret that signed the notebooks) and env added to the
// server's environment (the kernels inherit it). The server and its kernels stop with the test.
func StartJupyter(t testing.TB, dir, dataDir string, env ...string) *Jupyter {
	t.Helper()
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		t.Fatal(err)
	}
	j := &Jupyter{Token: hex.EncodeToString(tok)}
	port := FreePort(t)
	j.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	args := []string{"notebook", "--no-browser", "--ip=127.0.0.1", fmt.Sprintf("--port=%d", port), "--port-retries=0",
		"--notebook-dir=" + dir, "--NotebookApp.token=" + j.Token}
	if os.Geteuid() == 0 {
		args = append(args, "--allow-root") // CI containers run as root; the server refuses to otherwise
	}
	cmd := exec.CommandContext(ctx, "/usr/bin/jupyter", args...)
	cmd.Env = append(append(os.Environ(), "JUPYTER_DATA_DIR="+dataDir, "PYDEVD_DISABLE_FILE_VALIDATION=1"), env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start jupyter notebook: %v", err)
	}
	t.Cleanup(func() {
		// Two interrupts: the first asks to confirm, the second shuts the server and its kernels down.
		cmd.Process.Signal(os.Interrupt)
		time.Sleep(200 * time.Millisecond)
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("jupyter notebook log:\n%s", strings.ReplaceAll(log.String(), j.Token, "<token>"))
		}
	})
	if err := WaitHTTP(j.URL+"/api/status?token="+j.Token, 60*time.Second); err != nil {
		t.Fatalf("jupyter notebook did not answer: %v\n%s", err, strings.ReplaceAll(log.String(), j.Token, "<token>"))
	}
	return j
}
