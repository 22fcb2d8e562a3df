// Package diskkv is a tiny content-addressed JSON store on disk: a value is saved under the SHA-256 of its key's
// canonical JSON, written atomically (temporary file + rename) so a crash never leaves a half-written entry. The
// llm client keeps every chat response there and the rerank teacher every API answer, so a re-run or a run
// after a crash pays for nothing twice. It knows nothing about what it stores.
package diskkv

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ragnb/ragnb/internal/atomicfile"
)

// Store keeps values under Dir, fanned out by the first two hex digits of the key hash.
type Store struct {
	Dir string
}

// Hash is the hex SHA-256 of key's JSON encoding (Go's encoding/json sorts map keys, so maps hash stably).
func Hash(key any) (string, error) {
	b, err := json.Marshal(key)
	if err != nil {
		return "", fmt.Errorf("hash cache key: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Path is the file that holds the entry of hash h.
func (s Store) Path(h string) string {
	return filepath.Join(s.Dir, h[:2], h+".json")
}

// Get decodes the entry of hash h into v. found is false when there is none; an unreadable or corrupt entry
// is reported as not found too (it is overwritten by the next Put), since the store only ever saves work.
func (s Store) Get(h string, v any) (found bool, err error) {
	b, err := os.ReadFile(s.Path(h))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read cache entry %s: %w", s.Path(h), err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, nil
	}
	return true, nil
}

// Put stores v as the entry of hash h, atomically.
func (s Store) Put(h string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("encode cache entry %s: %w", h, err)
	}
	path := s.Path(h)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("cache dir: %w", err)
	}
	if err := atomicfile.WriteBytes(path, append(b, '\n')); err != nil {
		return fmt.Errorf("cache entry: %w", err)
	}
	return nil
}

// Len counts the entries stored (for reports and tests).
func (s Store) Len() (int, error) {
	n := 0
	err := filepath.WalkDir(s.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() && filepath.Ext(p) == ".json" && d.Name()[0] != '.' {
			n++
		}
		return nil
	})
	return n, err
}
