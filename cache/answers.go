package cache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The folders of a cache directory that hold service answers rather than step results: the llm client's chat
// answers and the rerank teacher's API answers, one JSON file per answer (internal/diskkv), with no step
// manifest. They live beside the steps so that one `ragnb cache ls|clear` covers everything ragnb caches.
const (
	LLMAnswers    = "llm"
	RerankAnswers = "rerank"
)

// answerCaches lists those folders in the order they are reported.
func answerCaches() []string { return []string{LLMAnswers, RerankAnswers} }

func isAnswerCache(name string) bool {
	for _, n := range answerCaches() {
		if n == name {
			return true
		}
	}
	return false
}

// AnswerCache summarises one folder of cached answers.
type AnswerCache struct {
	// Name is LLMAnswers or RerankAnswers.
	Name string `json:"name"`
	// Dir is the folder.
	Dir string `json:"dir"`
	// Entries and Size count the answer files and their bytes.
	Entries int   `json:"entries"`
	Size    int64 `json:"size"`
	// Newest is the modification time of the newest answer (zero when there is none).
	Newest time.Time `json:"newest"`
}

// Answers summarises the answer caches that exist in the store (none when no service was ever asked).
func (s *Store) Answers() ([]AnswerCache, error) {
	var out []AnswerCache
	for _, name := range answerCaches() {
		a, ok, err := s.walkAnswers(name, time.Time{}, false)
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// ClearAnswers removes the cached answers that opts selects (Step "" or an answer cache's name; Before by
// the file's modification time) and returns what it removed, per cache. A step name selects none.
func (s *Store) ClearAnswers(opts ClearOptions) ([]AnswerCache, error) {
	var out []AnswerCache
	for _, name := range answerCaches() {
		if opts.Step != "" && opts.Step != name {
			continue
		}
		a, ok, err := s.walkAnswers(name, opts.Before, true)
		if ok {
			out = append(out, a)
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// walkAnswers counts (and with remove, deletes) the answer files of one cache modified before before (all
// when it is zero). Each answer is one file written in one rename, so removing files one by one never leaves
// half an answer for a concurrent reader.
func (s *Store) walkAnswers(name string, before time.Time, remove bool) (AnswerCache, bool, error) {
	a := AnswerCache{Name: name, Dir: filepath.Join(s.dir, name)}
	if st, err := os.Stat(a.Dir); err != nil || !st.IsDir() {
		return a, false, nil
	}
	err := filepath.WalkDir(a.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || filepath.Ext(p) != ".json" || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		if !before.IsZero() && !info.ModTime().Before(before) {
			return nil
		}
		if remove {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			os.Remove(filepath.Dir(p)) // the fan-out folder, when it is now empty
		}
		a.Entries++
		a.Size += info.Size()
		if info.ModTime().After(a.Newest) {
			a.Newest = info.ModTime()
		}
		return nil
	})
	return a, true, err
}
