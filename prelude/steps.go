package prelude

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-gota/gota/dataframe"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/ui/display"
	"github.com/ragnb/ragnb/workflow"
)

// Steps are memoised on disk in the cache directory (cache.DefaultDir: $RAGNB_CACHE, else .ragnb beside the
// notebook). A step's key is its name and version, its inputs' content hashes and its parameters; a hit
// loads the stored result, a miss computes it and stores it atomically. Every notebook cell is a new
// process that re-runs every top-level var, so this is what makes a re-run cheap.

// store opens the step cache.
func store() (*cache.Store, error) { return cache.OpenDefault() }

// stepEnv is what the workflow's steps run in from a notebook: the step cache, the notebook's progress bars.
func stepEnv() (workflow.Env, error) {
	s, err := store()
	if err != nil {
		return workflow.Env{}, err
	}
	return workflow.Env{Cache: s, Progress: display.Progress()}, nil
}

// cellContext is cancelled by an interrupt (the notebook's stop button sends SIGINT to the cell's process, Ctrl-C
// in a terminal), so long steps stop cleanly and store nothing.
func cellContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// Step runs fn on the table once for a given content and params, and replays the stored result afterwards, in
// this process or any later one: the key is name, the dataset's Hash and params (JSON; never put secrets in
// params — tag such fields `json:"-"`). Put a version in the name ("clean-v2") when you change fn.
func (d *Dataset) Step(name string, params any, fn func(df dataframe.DataFrame) (dataframe.DataFrame, error)) *Dataset {
	op := fmt.Sprintf("Step(%q, …)", name)
	n := d.next(op)
	if n.err != nil {
		return n
	}
	key := cache.Key{Step: name, Inputs: []string{d.Hash()}, Params: params}
	df, hit, err := cachedTable(key, func(ctx context.Context) (dataframe.DataFrame, error) {
		out, err := fn(d.df)
		if err == nil && out.Err != nil {
			err = out.Err
		}
		return out, err
	})
	if err != nil {
		return n.fail(op, err)
	}
	n.df = df
	if hit {
		n.notes = append(n.notes, op+": from cache")
	}
	return n
}

// cachedTable memoises a table-producing computation under key.
func cachedTable(key cache.Key, compute func(ctx context.Context) (dataframe.DataFrame, error)) (dataframe.DataFrame, bool, error) {
	s, err := store()
	if err != nil {
		return dataframe.DataFrame{}, false, err
	}
	ctx, cancel := cellContext()
	defer cancel()
	dir, hit, err := s.Do(ctx, key, func(ctx context.Context, dir string) error {
		df, err := compute(ctx)
		if err != nil {
			return err
		}
		return workflow.SaveTable(dir, df)
	})
	if err != nil {
		return dataframe.DataFrame{}, hit, err
	}
	df, err := workflow.LoadTable(dir)
	if err != nil {
		return df, hit, fmt.Errorf("cached step %s in %s: %w", key.Step, dir, err)
	}
	return df, hit, nil
}

// Memo memoises any step that writes files: on a miss fn writes its artifacts into dir (a fresh directory
// that is moved into the cache only if fn succeeds); on a hit fn is not called. It returns the directory
// holding the artifacts. inputs are content hashes (a Dataset's Hash, cache.HashFile / HashDir of a file or
// model folder, or MemoKey of an earlier step); params must be JSON-encodable and free of secrets.
func Memo(step string, params any, inputs []string, fn func(dir string) error) (string, error) {
	dir, _, _, err := cachedDir(cache.Key{Step: step, Inputs: inputs, Params: params}, func(ctx context.Context, dir string) error {
		return fn(dir)
	})
	return dir, err
}

// MemoKey is the identity of Memo's result for these arguments, to pass as an input of a later step without
// hashing the artifacts again (the same key always stands for the same result).
func MemoKey(step string, params any, inputs []string) (string, error) {
	return cache.Key{Step: step, Inputs: inputs, Params: params}.Hash()
}

// cachedDir memoises a directory-producing computation under key and returns the directory and the key's
// hash, which later steps use as this artifact's content identity (a model directory need not be hashed
// again in every cell).
func cachedDir(key cache.Key, compute func(ctx context.Context, dir string) error) (dir, id string, hit bool, err error) {
	id, err = key.Hash()
	if err != nil {
		return "", "", false, err
	}
	s, err := store()
	if err != nil {
		return "", "", false, err
	}
	ctx, cancel := cellContext()
	defer cancel()
	dir, hit, err = s.Do(ctx, key, compute)
	return dir, id, hit, err
}
