package prelude

import (
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/model/hub"
	"github.com/ragnb/ragnb/ui/display"
)

// loadHub loads "org/name[@revision][:split]" from the Hugging Face Hub: the dataset's data files are fetched
// once into the Hugging Face cache (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE, HF_HUB_OFFLINE as huggingface_hub
// reads them; see package hub) and the split's files are read and concatenated in path order. Without a
// split it is "train" when the dataset has one, else every data file.
func loadHub(spec, op string) *Dataset {
	d := &Dataset{name: spec, chain: op}
	id, split := spec, ""
	if i := strings.LastIndexByte(spec, ':'); i >= 0 {
		id, split = spec[:i], spec[i+1:]
	}
	repo, rev, err := hub.ParseID(id)
	if err != nil {
		return d.fail(op, fmt.Errorf("%w; want hf:org/name[@revision][:split]", err))
	}
	ctx, cancel := cellContext()
	defer cancel()
	snap, err := hub.FromEnv().DatasetSnapshot(ctx, repo, rev, display.Progress())
	if err != nil {
		return d.fail(op, err)
	}
	files, err := hubDataFiles(snap)
	if err != nil {
		return d.fail(op, err)
	}
	splits := map[string][]string{}
	for _, f := range files {
		s := fileSplit(f)
		splits[s] = append(splits[s], f)
	}
	var chosen []string
	switch {
	case split != "":
		if chosen = splits[split]; chosen == nil {
			return d.fail(op, fmt.Errorf("dataset %s has no split %q (its data files: %s)", repo, split, strings.Join(files, ", ")))
		}
	case splits["train"] != nil:
		split, chosen = "train", splits["train"]
	default:
		chosen = files
	}
	df, err := datasets.Load(filepath.Join(snap, filepath.FromSlash(chosen[0])))
	if err != nil {
		return d.fail(op, err)
	}
	for _, f := range chosen[1:] {
		more, err := datasets.Load(filepath.Join(snap, filepath.FromSlash(f)))
		if err != nil {
			return d.fail(op, err)
		}
		if !slices.Equal(more.Names(), df.Names()) {
			return d.fail(op, fmt.Errorf("%s: columns %v differ from %s's %v", f, more.Names(), chosen[0], df.Names()))
		}
		if df = df.RBind(more); df.Err != nil {
			return d.fail(op, fmt.Errorf("%s: %w", f, df.Err))
		}
	}
	d.df = df
	d.name = repo
	if split != "" {
		d.name += " (" + split + ")"
	}
	d.notes = append(d.notes, fmt.Sprintf("Hub dataset %s@%s: %d file(s) from %s", repo, rev, len(chosen), snap))
	return d
}

// hubDataFiles lists a dataset snapshot's data files, slash-separated and sorted.
func hubDataFiles(snap string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(snap, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(snap, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("the snapshot %s holds no data files", snap)
	}
	slices.Sort(out)
	return out, err
}

// fileSplit is the split a data file belongs to, by the Hub's naming conventions: a folder named after the
// split (train/..., data/test/...) or a file name starting with it (train-00000-of-00002.parquet, test.jsonl);
// "" when neither says.
func fileSplit(name string) string {
	known := []string{"train", "test", "validation", "valid", "dev", "eval"}
	parts := strings.Split(name, "/")
	for _, dir := range parts[:len(parts)-1] {
		if slices.Contains(known, dir) {
			return dir
		}
	}
	base := strings.TrimSuffix(path.Base(name), path.Ext(name))
	for _, s := range known {
		if rest, ok := strings.CutPrefix(base, s); ok && (rest == "" || strings.ContainsRune("-_.0123456789", rune(rest[0]))) {
			return s
		}
	}
	return ""
}
