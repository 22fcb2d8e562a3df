package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ragnb/ragnb/internal/atomicfile"
)

// Store is a step cache in one directory:
//
//	<dir>/<step>/<key hash>/manifest.json   what the entry is (Entry as JSON)
//	<dir>/<step>/<key hash>/data/           the artifacts the step wrote
//	<dir>/.tmp/                             entries being computed (renamed into place when complete)
//	<dir>/.locks/<key hash>.lock            held while a process computes that key
//
// An entry appears in one rename, complete with its manifest, or not at all.
type Store struct {
	dir string
}

// Entry describes one stored result.
type Entry struct {
	Step    string          `json:"step"`
	Version int             `json:"version"`
	Key     string          `json:"key"`
	Inputs  []string        `json:"inputs"`
	Params  json.RawMessage `json:"params"`
	Created time.Time       `json:"created"`
	// Seconds is how long the computation took.
	Seconds float64 `json:"seconds"`
	// Size is the total size in bytes of the files in Dir.
	Size int64 `json:"size"`
	// Dir is the entry's data directory (not stored: set when the entry is read).
	Dir string `json:"-"`
}

// Open returns the store in dir, creating the directory if needed.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("cache: empty directory name")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return &Store{dir: abs}, nil
}

// OpenDefault opens the store in DefaultDir().
func OpenDefault() (*Store, error) { return Open(DefaultDir()) }

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) entryDir(step, hash string) string { return filepath.Join(s.dir, step, hash) }

const manifestName = "manifest.json"

// Lookup returns the stored entry for key, if there is one.
func (s *Store) Lookup(key Key) (Entry, bool, error) {
	hash, err := key.Hash()
	if err != nil {
		return Entry{}, false, err
	}
	return s.lookup(key.Step, hash)
}

func (s *Store) lookup(step, hash string) (Entry, bool, error) {
	dir := s.entryDir(step, hash)
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, err
	}
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return Entry{}, false, fmt.Errorf("cache entry %s: bad manifest: %w", dir, err)
	}
	var compact bytes.Buffer
	if json.Compact(&compact, e.Params) == nil {
		e.Params = compact.Bytes()
	}
	e.Dir = filepath.Join(dir, "data")
	return e, true, nil
}

// Do returns the data directory holding key's result, computing it first on a miss.
//
// On a miss, compute is called with an empty directory to write its artifacts into; when it returns nil the
// directory is moved into the store in one rename, with a manifest (step, version, params, inputs, created,
// duration, size). When it fails, or panics, nothing is stored and the partial directory is removed. While
// one process computes a key, others asking for the same key wait for it (an flock on a lock file, released
// by the kernel if the process dies) and then get its result as a hit; waiting honours ctx.
//
// The returned directory belongs to the store: read it, never write to it.
func (s *Store) Do(ctx context.Context, key Key, compute func(ctx context.Context, dir string) error) (dir string, hit bool, err error) {
	hash, err := key.Hash()
	if err != nil {
		return "", false, err
	}
	if e, ok, err := s.lookup(key.Step, hash); err != nil || ok {
		return e.Dir, ok, err
	}
	for _, d := range []string{".locks", ".tmp"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o755); err != nil {
			return "", false, fmt.Errorf("cache: %w", err)
		}
	}
	l, err := lock(ctx, filepath.Join(s.dir, ".locks", hash+".lock"))
	if err != nil {
		return "", false, fmt.Errorf("cache: wait for step %s (%s): %w", key.Step, hash[:12], err)
	}
	defer l.unlock()
	// Another process may have finished it while we waited.
	if e, ok, err := s.lookup(key.Step, hash); err != nil || ok {
		return e.Dir, ok, err
	}
	params, err := key.CanonicalParams()
	if err != nil {
		return "", false, err
	}
	tmp, err := atomicfile.MkdirTemp(filepath.Join(s.dir, ".tmp"), key.Step+"-"+hash[:12]+"-")
	if err != nil {
		return "", false, fmt.Errorf("cache: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			os.RemoveAll(tmp)
		}
	}()
	data := filepath.Join(tmp, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		return "", false, fmt.Errorf("cache: %w", err)
	}
	start := time.Now()
	if err := compute(ctx, data); err != nil {
		return "", false, fmt.Errorf("step %s: %w", key.Step, err)
	}
	size, err := dirSize(data)
	if err != nil {
		return "", false, fmt.Errorf("step %s: %w", key.Step, err)
	}
	inputs := key.Inputs
	if inputs == nil {
		inputs = []string{}
	}
	e := Entry{Step: key.Step, Version: key.Version, Key: hash, Inputs: inputs, Params: params,
		Created: start.UTC().Truncate(time.Millisecond), Seconds: time.Since(start).Seconds(), Size: size}
	if err := writeSynced(filepath.Join(tmp, manifestName), e); err != nil {
		return "", false, fmt.Errorf("cache: %w", err)
	}
	final := s.entryDir(key.Step, hash)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return "", false, fmt.Errorf("cache: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		// Without a working lock another process can win the race: use its entry.
		if e, ok, lerr := s.lookup(key.Step, hash); lerr == nil && ok {
			return e.Dir, true, nil
		}
		return "", false, fmt.Errorf("cache: store step %s: %w", key.Step, err)
	}
	committed = true
	return filepath.Join(final, "data"), false, nil
}

// Value memoises a small JSON-encodable result (metrics, a threshold, a list of ids): on a miss it calls
// compute and stores what it returns as value.json; either way it decodes the stored JSON into out (a
// pointer), so a hit and a miss give exactly the same value.
func (s *Store) Value(ctx context.Context, key Key, out any, compute func(ctx context.Context) (any, error)) (hit bool, err error) {
	dir, hit, err := s.Do(ctx, key, func(ctx context.Context, dir string) error {
		v, err := compute(ctx)
		if err != nil {
			return err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode result: %w", err)
		}
		return os.WriteFile(filepath.Join(dir, "value.json"), b, 0o644)
	})
	if err != nil {
		return hit, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "value.json"))
	if err != nil {
		return hit, fmt.Errorf("cache: step %s: %w", key.Step, err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return hit, fmt.Errorf("cache: step %s: decode %s: %w", key.Step, filepath.Join(dir, "value.json"), err)
	}
	return hit, nil
}

// List returns every complete entry, newest first.
func (s *Store) List() ([]Entry, error) {
	steps, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, st := range steps {
		if !st.IsDir() || strings.HasPrefix(st.Name(), ".") || isAnswerCache(st.Name()) {
			continue // answer caches have no step manifests: see Answers
		}
		keys, err := os.ReadDir(filepath.Join(s.dir, st.Name()))
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			e, ok, err := s.lookup(st.Name(), k.Name())
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, e)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// Remove deletes an entry. The entry disappears in one rename, so a concurrent reader never sees half of it.
func (s *Store) Remove(e Entry) error {
	if !stepName.MatchString(e.Step) || len(e.Key) != 64 {
		return fmt.Errorf("cache: not an entry of this store: step %q key %q", e.Step, e.Key)
	}
	dir := s.entryDir(e.Step, e.Key)
	if err := os.MkdirAll(filepath.Join(s.dir, ".tmp"), 0o755); err != nil {
		return err
	}
	trash, err := os.MkdirTemp(filepath.Join(s.dir, ".tmp"), "removed-")
	if err != nil {
		return err
	}
	if err := os.Rename(dir, filepath.Join(trash, "entry")); err != nil {
		os.Remove(trash)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	os.Remove(filepath.Join(s.dir, e.Step)) // only succeeds when the step has no entries left
	return os.RemoveAll(trash)
}

// ClearOptions selects entries to remove; the zero value selects all.
type ClearOptions struct {
	// Step, when set, limits clearing to that step's entries.
	Step string
	// Before, when not zero, limits clearing to entries created before it.
	Before time.Time
}

// Clear removes the selected entries and returns them. Clearing everything also removes what crashed
// computations left behind in .tmp (never the directory of a computation still running).
func (s *Store) Clear(opts ClearOptions) ([]Entry, error) {
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	var removed []Entry
	for _, e := range all {
		if opts.Step != "" && e.Step != opts.Step {
			continue
		}
		if !opts.Before.IsZero() && !e.Created.Before(opts.Before) {
			continue
		}
		if err := s.Remove(e); err != nil {
			return removed, err
		}
		removed = append(removed, e)
	}
	if opts.Step == "" && opts.Before.IsZero() {
		if err := s.removeAbandoned(); err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// removeAbandoned deletes temporary directories whose computation is no longer running (its lock is free).
func (s *Store) removeAbandoned() error {
	tmps, err := os.ReadDir(filepath.Join(s.dir, ".tmp"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, t := range tmps {
		name := t.Name()
		// "<step>-<hash12>-<random>": find the key prefix to test its lock.
		parts := strings.Split(name, "-")
		if len(parts) >= 3 && !strings.HasPrefix(name, "removed-") {
			prefix := parts[len(parts)-2]
			if running, err := s.lockHeld(prefix); err != nil || running {
				continue
			}
		}
		if err := os.RemoveAll(filepath.Join(s.dir, ".tmp", name)); err != nil {
			return err
		}
	}
	return nil
}

// lockHeld tells whether any lock whose key starts with prefix is held by a running computation.
func (s *Store) lockHeld(prefix string) (bool, error) {
	locks, _ := filepath.Glob(filepath.Join(s.dir, ".locks", prefix+"*.lock"))
	for _, p := range locks {
		l, ok, err := tryLock(p)
		if err != nil {
			return false, err
		}
		if !ok {
			return true, nil
		}
		l.unlock()
	}
	return false, nil
}

// Size is the total size in bytes of all entries' data.
func (s *Store) Size() (int64, error) {
	all, err := s.List()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range all {
		n += e.Size
	}
	return n, nil
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}

func writeSynced(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
