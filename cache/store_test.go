package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

type trainParams struct {
	BatchSize int     `json:"batch_size"`
	LR        float64 `json:"lr"`
	APIKey    string  `json:"-"`
}

func TestKeyHashIsCanonicalJSON(t *testing.T) {
	k := Key{Step: "train", Version: 2, Inputs: []string{"aa", "bb"}, Params: trainParams{BatchSize: 32, LR: 0.05, APIKey: "sk-secret"}}
	got, err := k.Hash()
	if err != nil {
		t.Fatal(err)
	}
	want := sha(`{"step":"train","version":2,"inputs":["aa","bb"],"params":{"batch_size":32,"lr":0.05}}`)
	if got != want {
		t.Fatalf("hash %s, want sha256 of the canonical document %s", got, want)
	}
	// A map with the same fields, in another order, is the same key: keys are sorted.
	m := Key{Step: "train", Version: 2, Inputs: []string{"aa", "bb"}, Params: map[string]any{"lr": 0.05, "batch_size": 32}}
	if h, _ := m.Hash(); h != want {
		t.Errorf("map params hash differently from the struct: %s", h)
	}
	// Each part of the key matters.
	for name, other := range map[string]Key{
		"param":  {Step: "train", Version: 2, Inputs: []string{"aa", "bb"}, Params: trainParams{BatchSize: 64, LR: 0.05}},
		"ver":    {Step: "train", Version: 3, Inputs: []string{"aa", "bb"}, Params: trainParams{BatchSize: 32, LR: 0.05}},
		"order":  {Step: "train", Version: 2, Inputs: []string{"bb", "aa"}, Params: trainParams{BatchSize: 32, LR: 0.05}},
		"step":   {Step: "mine", Version: 2, Inputs: []string{"aa", "bb"}, Params: trainParams{BatchSize: 32, LR: 0.05}},
		"inputs": {Step: "train", Version: 2, Inputs: []string{"aa"}, Params: trainParams{BatchSize: 32, LR: 0.05}},
	} {
		if h, _ := other.Hash(); h == want {
			t.Errorf("changing the %s did not change the key", name)
		}
	}
	// Secrets tagged json:"-" are left out: the API key above did not change the hash.
	if h, _ := (Key{Step: "train", Version: 2, Inputs: []string{"aa", "bb"}, Params: trainParams{BatchSize: 32, LR: 0.05}}).Hash(); h != want {
		t.Error("a json:\"-\" field changed the key")
	}
	// Large integers stay exact.
	a, _ := Key{Step: "s", Params: map[string]int64{"seed": 9007199254740993}}.Hash()
	b, _ := Key{Step: "s", Params: map[string]int64{"seed": 9007199254740992}}.Hash()
	if a == b {
		t.Error("seeds beyond 2^53 collided")
	}
}

func TestKeyRefusesSecretsAndBadNames(t *testing.T) {
	for _, p := range []any{
		map[string]any{"model": "gpt", "api_key": "sk-1"},
		map[string]any{"client": map[string]any{"Authorization": "Bearer x"}},
		[]any{map[string]any{"hf-token": "x"}},
		struct {
			Token string `json:"token"`
		}{"t"},
	} {
		_, err := Key{Step: "gen", Params: p}.Hash()
		if err == nil || !strings.Contains(err.Error(), "secret") {
			t.Errorf("%v: want a secret error, got %v", p, err)
		}
	}
	if _, err := (Key{Step: "gen", Params: map[string]int{"max_tokens": 5}}).Hash(); err != nil {
		t.Errorf("max_tokens is not a secret: %v", err)
	}
	for _, s := range []string{"", "../x", "a/b", ".hidden", "with space"} {
		if _, err := (Key{Step: s}).Hash(); err == nil {
			t.Errorf("step %q accepted", s)
		}
	}
	if _, err := (Key{Step: "x", Params: func() {}}).Hash(); err == nil {
		t.Error("a function param must be refused")
	}
}

func TestDoMissThenHit(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "c"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := Key{Step: "mine", Version: 1, Inputs: []string{"in1"}, Params: map[string]float64{"lo": 0.2, "hi": 0.5}}
	calls := 0
	compute := func(ctx context.Context, dir string) error {
		calls++
		os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
		os.WriteFile(filepath.Join(dir, "sub", "negatives.jsonl"), []byte("0123456789"), 0o644)
		return os.WriteFile(filepath.Join(dir, "stats.json"), []byte("{}"), 0o644)
	}
	dir, hit, err := s.Do(ctx, key, compute)
	if err != nil || hit || calls != 1 {
		t.Fatalf("first Do: %v hit=%v calls=%d", err, hit, calls)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "sub", "negatives.jsonl")); string(b) != "0123456789" {
		t.Fatalf("artifact not stored in %s", dir)
	}
	dir2, hit, err := s.Do(ctx, key, compute)
	if err != nil || !hit || calls != 1 || dir2 != dir {
		t.Fatalf("second Do: %v hit=%v calls=%d dir %s vs %s", err, hit, calls, dir2, dir)
	}
	e, ok, err := s.Lookup(key)
	hash, _ := key.Hash()
	if !ok || err != nil || e.Step != "mine" || e.Version != 1 || e.Key != hash || e.Size != 12 || e.Dir != dir ||
		string(e.Params) != `{"hi":0.5,"lo":0.2}` || len(e.Inputs) != 1 || time.Since(e.Created) > time.Minute {
		t.Errorf("manifest: %+v %v %v", e, ok, err)
	}
	// A parameter change is a miss; the first entry stays.
	key.Params = map[string]float64{"lo": 0.25, "hi": 0.5}
	if _, hit, _ := s.Do(ctx, key, compute); hit || calls != 2 {
		t.Errorf("changed params: hit=%v calls=%d", hit, calls)
	}
	if all, _ := s.List(); len(all) != 2 {
		t.Errorf("%d entries, want 2", len(all))
	}
	// A second Store on the same directory (the next notebook cell) sees the entries.
	s2, _ := Open(s.Dir())
	if _, hit, _ := s2.Do(ctx, key, compute); !hit {
		t.Error("a new Store on the same directory missed")
	}
}

func TestDoFailureLeavesNothing(t *testing.T) {
	s, _ := Open(t.TempDir())
	ctx := context.Background()
	key := Key{Step: "train", Params: map[string]int{"batch": 8}}
	boom := errors.New("out of memory")
	_, _, err := s.Do(ctx, key, func(ctx context.Context, dir string) error {
		os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte("half"), 0o644)
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "step train") {
		t.Fatalf("error %v should wrap the compute error and name the step", err)
	}
	func() {
		defer func() { recover() }()
		s.Do(ctx, key, func(ctx context.Context, dir string) error {
			os.WriteFile(filepath.Join(dir, "x"), []byte("x"), 0o644)
			panic("bug")
		})
	}()
	if all, _ := s.List(); len(all) != 0 {
		t.Errorf("a failed step left entries: %+v", all)
	}
	if tmp, _ := os.ReadDir(filepath.Join(s.Dir(), ".tmp")); len(tmp) != 0 {
		t.Errorf("a failed step left temporary files: %v", tmp)
	}
	if _, ok, _ := s.Lookup(key); ok {
		t.Error("lookup found a failed entry")
	}
	// The lock was released: the next attempt computes.
	_, hit, err := s.Do(ctx, key, func(ctx context.Context, dir string) error { return nil })
	if err != nil || hit {
		t.Errorf("retry after failure: %v hit=%v", err, hit)
	}
}

func TestConcurrentDoComputesOnce(t *testing.T) {
	s, _ := Open(t.TempDir())
	key := Key{Step: "embed", Inputs: []string{"corpus"}}
	var calls, hits atomic.Int32
	var wg sync.WaitGroup
	dirs := make([]string, 8)
	errs := make([]error, 8)
	for i := range dirs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			d, hit, err := s.Do(context.Background(), key, func(ctx context.Context, dir string) error {
				calls.Add(1)
				time.Sleep(50 * time.Millisecond)
				return os.WriteFile(filepath.Join(dir, "emb.npy"), []byte("npy"), 0o644)
			})
			dirs[i], errs[i] = d, err
			if hit {
				hits.Add(1)
			}
		}(i)
	}
	wg.Wait()
	for i := range dirs {
		if errs[i] != nil || dirs[i] != dirs[0] {
			t.Errorf("goroutine %d: %v %s", i, errs[i], dirs[i])
		}
	}
	if calls.Load() != 1 || hits.Load() != 7 {
		t.Errorf("calls %d hits %d, want 1 computation and 7 hits", calls.Load(), hits.Load())
	}
}

// TestConcurrentProcesses runs two copies of this test binary on one cache: the step must run once.
func TestConcurrentProcesses(t *testing.T) {
	if dir := os.Getenv("RAGNB_CACHE_CHILD"); dir != "" {
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, hit, err := s.Do(context.Background(), Key{Step: "shared"}, func(ctx context.Context, d string) error {
			f, err := os.OpenFile(filepath.Join(dir, "calls.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			fmt.Fprintln(f, os.Getpid())
			f.Close()
			time.Sleep(300 * time.Millisecond)
			return os.WriteFile(filepath.Join(d, "out"), []byte("ok"), 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("HIT=%v\n", hit)
		return
	}
	dir := t.TempDir()
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for i := 0; i < 2; i++ {
		c := exec.Command(os.Args[0], "-test.run=^TestConcurrentProcesses$", "-test.count=1")
		c.Env = append(os.Environ(), "RAGNB_CACHE_CHILD="+dir)
		var b strings.Builder
		c.Stdout, c.Stderr = &b, &b
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, c), append(outs, &b)
	}
	hits := 0
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i])
		}
		if strings.Contains(outs[i].String(), "HIT=true") {
			hits++
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "calls.log"))
	if n := strings.Count(string(log), "\n"); n != 1 || hits != 1 {
		t.Errorf("%d computations and %d hits across two processes, want 1 and 1", n, hits)
	}
}

func TestDoWaitHonoursContext(t *testing.T) {
	s, _ := Open(t.TempDir())
	key := Key{Step: "slow"}
	started := make(chan struct{})
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		s.Do(context.Background(), key, func(ctx context.Context, dir string) error {
			close(started)
			<-release
			return nil
		})
		close(done)
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := s.Do(ctx, key, func(ctx context.Context, dir string) error {
		t.Error("second caller computed while the first held the key")
		return nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting caller: %v, want the context's deadline", err)
	}
	close(release)
	<-done
}

func TestValue(t *testing.T) {
	s, _ := Open(t.TempDir())
	key := Key{Step: "evaluate", Inputs: []string{"model", "test"}}
	var m map[string]float64
	hit, err := s.Value(context.Background(), key, &m, func(ctx context.Context) (any, error) {
		return map[string]float64{"dim_768_cosine_ndcg@10": 0.75, "bm25_ndcg@10": 0.5}, nil
	})
	if err != nil || hit || m["dim_768_cosine_ndcg@10"] != 0.75 {
		t.Fatalf("miss: %v %v %v", err, hit, m)
	}
	var m2 map[string]float64
	hit, err = s.Value(context.Background(), key, &m2, func(ctx context.Context) (any, error) {
		t.Error("recomputed on a hit")
		return nil, nil
	})
	if err != nil || !hit || len(m2) != 2 || m2["bm25_ndcg@10"] != 0.5 {
		t.Errorf("hit: %v %v %v", err, hit, m2)
	}
}

func TestListRemoveClear(t *testing.T) {
	s, _ := Open(t.TempDir())
	ctx := context.Background()
	write := func(n int) func(context.Context, string) error {
		return func(_ context.Context, dir string) error {
			return os.WriteFile(filepath.Join(dir, "f"), make([]byte, n), 0o644)
		}
	}
	for i, st := range []string{"mine", "mine", "train"} {
		if _, _, err := s.Do(ctx, Key{Step: st, Params: i}, write(100*(i+1))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	all, _ := s.List()
	if len(all) != 3 || all[0].Step != "train" || all[0].Size != 300 {
		t.Fatalf("list (newest first): %+v", all)
	}
	if n, _ := s.Size(); n != 600 {
		t.Errorf("size %d, want 600", n)
	}
	// A crashed computation left a temporary directory: clearing everything removes it.
	os.MkdirAll(filepath.Join(s.Dir(), ".tmp", "train-0123456789ab-999", "data"), 0o755)

	removed, err := s.Clear(ClearOptions{Step: "mine", Before: all[1].Created.Add(time.Nanosecond)})
	if err != nil || len(removed) != 2 {
		t.Fatalf("clear mine: %v %+v", err, removed)
	}
	removed, err = s.Clear(ClearOptions{Step: "mine", Before: all[2].Created})
	if err != nil || len(removed) != 0 {
		t.Fatalf("clear of nothing older: %v %+v", err, removed)
	}
	left, _ := s.List()
	if len(left) != 1 || left[0].Step != "train" {
		t.Fatalf("after clearing mine: %+v", left)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "mine")); !os.IsNotExist(err) {
		t.Errorf("empty step folder kept: %v", err)
	}
	if _, err := s.Clear(ClearOptions{}); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.List(); len(left) != 0 {
		t.Errorf("clear all left %+v", left)
	}
	if tmp, _ := os.ReadDir(filepath.Join(s.Dir(), ".tmp")); len(tmp) != 0 {
		t.Errorf("abandoned temporary directories kept: %v", tmp)
	}
	if err := s.Remove(Entry{Step: "../../etc", Key: strings.Repeat("0", 64)}); err == nil {
		t.Error("Remove accepted a path outside the store")
	}
}

func TestManifestIsJSON(t *testing.T) {
	s, _ := Open(t.TempDir())
	dir, _, _ := s.Do(context.Background(), Key{Step: "x", Params: map[string]string{"model": "m"}}, func(context.Context, string) error { return nil })
	b, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"step", "version", "key", "inputs", "params", "created", "seconds", "size"} {
		if _, ok := m[k]; !ok {
			t.Errorf("manifest lacks %q: %s", k, b)
		}
	}
}

// TestAnswerCachesAreListedAndCleared: the llm and rerank answer folders (one JSON file per answer, no step
// manifest) are summarised by Answers and emptied by ClearAnswers, and are not mistaken for steps.
func TestAnswerCachesAreListedAndCleared(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, hash string, age time.Duration) {
		p := filepath.Join(s.Dir(), name, hash[:2], hash+".json")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(`{"response":{"content":"ok"}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := time.Now().Add(-age)
		os.Chtimes(p, mt, mt)
	}
	for i := range 40 {
		write(LLMAnswers, fmt.Sprintf("%02x%062d", i, i), time.Duration(i)*time.Hour)
	}
	write(RerankAnswers, fmt.Sprintf("ab%062d", 1), 0)
	got, err := s.Answers()
	if err != nil || len(got) != 2 || got[0].Name != LLMAnswers || got[0].Entries != 40 || got[0].Size != 40*29 ||
		got[1].Name != RerankAnswers || got[1].Entries != 1 {
		t.Fatalf("answers %+v, %v", got, err)
	}
	if entries, err := s.List(); err != nil || len(entries) != 0 {
		t.Errorf("answer caches listed as steps: %+v, %v", entries, err)
	}
	// Older than 30h: answers 31..39 of the llm cache only.
	removed, err := s.ClearAnswers(ClearOptions{Before: time.Now().Add(-30*time.Hour - time.Minute)})
	if err != nil || len(removed) != 2 || removed[0].Entries != 9 || removed[1].Entries != 0 {
		t.Fatalf("clear older: %+v, %v", removed, err)
	}
	if removed, err = s.ClearAnswers(ClearOptions{Step: "mine"}); err != nil || len(removed) != 0 {
		t.Errorf("a step name cleared answers: %+v, %v", removed, err)
	}
	if removed, err = s.ClearAnswers(ClearOptions{}); err != nil || removed[0].Entries != 31 || removed[1].Entries != 1 {
		t.Fatalf("clear all: %+v, %v", removed, err)
	}
	if got, _ := s.Answers(); got[0].Entries != 0 || got[1].Entries != 0 {
		t.Errorf("after clear: %+v", got)
	}
	if _, err := (Key{Step: LLMAnswers, Version: 1}).Hash(); err == nil {
		t.Error("a step named like an answer cache must be refused")
	}
}
