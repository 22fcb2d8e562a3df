package index

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/gomlx/compute"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/retrieval/hnsw"
	"github.com/ragnb/ragnb/vector"
)

// File names inside an index directory.
const (
	ManifestFile = "manifest.json"
	DocsFile     = "docs.jsonl"
	VectorsFile  = "vectors.npy"
	GraphFile    = "hnsw.bin"
)

// Save writes the index to dir, replacing what was there atomically: everything is written and synced into a
// temporary sibling directory, which then takes dir's place by rename (the old directory is removed after).
// A crash leaves either the old index or the new one; Open names the leftover directory of an interrupted
// swap. dir must be absent, empty, or an index directory: Save never replaces other data.
func (ix *Index) Save(dir string) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	dir = filepath.Clean(dir)
	if err := checkReplaceable(dir); err != nil {
		return err
	}
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("index: save %s: %w", dir, err)
	}
	removeAbandonedSaves(parent, base)
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-")
	if err != nil {
		return fmt.Errorf("index: save %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp) // gone after a successful rename
	if err := ix.writeFiles(tmp); err != nil {
		return fmt.Errorf("index: save %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("index: save %s: %w", dir, err)
	}
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = filepath.Join(parent, "."+base+".old-"+filepath.Base(tmp)[len(base)+6:])
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("index: save %s: move the old index aside: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir) // put the old index back
		}
		return fmt.Errorf("index: save %s: %w", dir, err)
	}
	syncDir(parent)
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

// checkReplaceable refuses to replace a directory that holds something other than an index.
func checkReplaceable(dir string) error {
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("index: save %s: %w", dir, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("index: save %s: exists and is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("index: save %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err != nil {
		return fmt.Errorf("index: save %s: the directory holds files and no %s; not replacing it", dir, ManifestFile)
	}
	return nil
}

// abandonedAfter is how long a save's temporary folder must have been left untouched before another save
// of the same index removes it as the leftover of a killed process (a live save writes into it constantly).
const abandonedAfter = 10 * time.Minute

// removeAbandonedSaves deletes the temporary folders that killed saves of parent/base left behind.
func removeAbandonedSaves(parent, base string) {
	matches, _ := filepath.Glob(filepath.Join(parent, "."+base+".tmp-*"))
	for _, m := range matches {
		if newest, ok := newestModTime(m); ok && time.Since(newest) > abandonedAfter {
			os.RemoveAll(m)
		}
	}
}

// newestModTime is the latest modification time of dir and the files directly in it.
func newestModTime(dir string) (time.Time, bool) {
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return time.Time{}, false
	}
	newest := info.ModTime()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
	}
	return newest, true
}

func (ix *Index) writeFiles(dir string) error {
	sums := map[string]FileSum{}
	write := func(path string, fill func(*bufio.Writer) error) error {
		sum, err := writeSummed(path, fill)
		sums[filepath.Base(path)] = sum
		return err
	}
	if err := write(filepath.Join(dir, DocsFile), func(w *bufio.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, d := range ix.docs {
			if err := enc.Encode(struct {
				ID    string `json:"_id"`
				Title string `json:"title"`
				Text  string `json:"text"`
			}{d.ID, d.Title, d.Text}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	vecs := ix.vecs
	if vecs == nil {
		vecs = &vector.Matrix{}
	}
	if err := write(filepath.Join(dir, VectorsFile), func(w *bufio.Writer) error {
		return vector.WriteNPY(w, vecs)
	}); err != nil {
		return err
	}
	if ix.graph != nil {
		if err := write(filepath.Join(dir, GraphFile), func(w *bufio.Writer) error {
			_, err := ix.graph.WriteTo(w)
			return err
		}); err != nil {
			return err
		}
	}
	man := ix.man
	man.Count = len(ix.docs)
	man.Files = sums
	_, err := writeSummed(filepath.Join(dir, ManifestFile), func(w *bufio.Writer) error {
		b, err := json.MarshalIndent(man, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	})
	return err
}

// writeSummed writes path from fill, syncs it, and returns its size and SHA-256 as written.
func writeSummed(path string, fill func(*bufio.Writer) error) (FileSum, error) {
	f, err := os.Create(path)
	if err != nil {
		return FileSum{}, err
	}
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	if err := fill(w); err != nil {
		f.Close()
		return FileSum{}, fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return FileSum{}, fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return FileSum{}, fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return FileSum{}, fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return FileSum{Size: info.Size(), SHA256: hex.EncodeToString(h.Sum(nil))}, f.Close()
}

// Verify checks the data files of the index in dir against the sizes and checksums its manifest records:
// a missing, truncated, extended or altered file is an error naming it. verified is false, with no error,
// for a manifest written before checksums were recorded.
func Verify(dir string, man Manifest) (verified bool, err error) {
	if man.Files == nil {
		return false, nil
	}
	names := make([]string, 0, len(man.Files))
	for name := range man.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		want := man.Files[name]
		path := filepath.Join(dir, name)
		if name != filepath.Base(name) || name == ManifestFile {
			return false, fmt.Errorf("index: %s: bad file name %q in %s", dir, name, ManifestFile)
		}
		f, err := os.Open(path)
		if err != nil {
			return false, fmt.Errorf("index: %s: %w (the manifest lists it)", path, err)
		}
		info, err := f.Stat()
		if err == nil && info.Size() != want.Size {
			f.Close()
			return false, fmt.Errorf("index: %s is %d bytes, the manifest says %d: the file is damaged (truncated or replaced); rebuild the index", path, info.Size(), want.Size)
		}
		h := sha256.New()
		if err == nil {
			_, err = io.Copy(h, f)
		}
		f.Close()
		if err != nil {
			return false, fmt.Errorf("index: read %s: %w", path, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want.SHA256 {
			return false, fmt.Errorf("index: %s: checksum %s…, the manifest says %s…: the file is damaged; rebuild the index", path, got[:12], want.SHA256[:min(12, len(want.SHA256))])
		}
	}
	return true, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// ReadManifest reads an index directory's manifest without loading the index.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return m, fmt.Errorf("index: %s is not an index directory (no %s)%s", dir, ManifestFile, leftover(dir))
		}
		return m, fmt.Errorf("index: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("index: read %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	if m.Format != FormatVersion {
		return m, fmt.Errorf("index: %s has format %d, this build reads %d", dir, m.Format, FormatVersion)
	}
	if m.Kind != Exact && m.Kind != HNSW || (m.Kind == HNSW) != (m.HNSW != nil) {
		return m, fmt.Errorf("index: %s: bad kind %q in %s", dir, m.Kind, ManifestFile)
	}
	return m, nil
}

// leftover names the directory an interrupted Save left beside dir, if any.
func leftover(dir string) string {
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	matches, _ := filepath.Glob(filepath.Join(parent, "."+base+".old-*"))
	for _, m := range matches {
		if _, err := os.Stat(filepath.Join(m, ManifestFile)); err == nil {
			return fmt.Sprintf("; an interrupted save left the previous index at %s: rename it to %s", m, dir)
		}
	}
	return ""
}

// OpenOptions configure Open.
type OpenOptions struct {
	// RebuildStale re-embeds every stored document with the given model when the index was built with
	// another one, and saves the result over dir; without it a model mismatch is a *StaleError.
	RebuildStale bool
	// EfSearch overrides the saved HNSW search list size (0 keeps it).
	EfSearch int
	// BatchSize is the number of texts per embedding call for Add and rebuilds (default 256).
	BatchSize int
	// Backend runs exact search; nil means gpu.Shared().
	Backend compute.Backend
}

// Open loads the index in dir for model. The model's hash must match the one the index was built with,
// else the error is a *StaleError (or, with RebuildStale, the index is rebuilt and saved).
func Open(ctx context.Context, dir string, model Model, opts OpenOptions, report progress.Func) (*Index, error) {
	if err := checkModel(model); err != nil {
		return nil, err
	}
	man, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if _, err := Verify(dir, man); err != nil {
		return nil, err
	}
	man.Files = nil // they describe the saved files; the next Save writes new ones
	stale := man.ModelHash != model.Hash
	if stale && !opts.RebuildStale {
		return nil, &StaleError{Dir: dir, BuiltHash: man.ModelHash, BuiltName: man.ModelName, NowHash: model.Hash, NowName: model.Name}
	}
	docs, err := ir.LoadCorpus(filepath.Join(dir, DocsFile))
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	if len(docs) != man.Count {
		return nil, fmt.Errorf("index: %s holds %d documents, its manifest says %d", dir, len(docs), man.Count)
	}
	batch := opts.BatchSize
	if batch <= 0 {
		batch = 256
	}
	if stale {
		// The stored documents, re-embedded with this model under the saved options.
		o := Options{Kind: man.Kind, Similarity: man.Similarity, Dim: man.TruncateDim, BatchSize: batch, Backend: opts.Backend}
		if man.HNSW != nil {
			o.HNSW = *man.HNSW
		}
		ix, err := Build(ctx, model, docs, o, report)
		if err != nil {
			return nil, fmt.Errorf("index: rebuild stale %s: %w", dir, err)
		}
		ix.man.Created = man.Created
		if err := ix.Save(dir); err != nil {
			return nil, err
		}
		ix.SetEfSearch(opts.EfSearch)
		return ix, nil
	}
	ix := &Index{model: model, backend: opts.Backend, batch: batch, man: man, docs: docs,
		pos: make(map[string]int, len(docs)), efSearch: opts.EfSearch}
	for i, d := range docs {
		if _, dup := ix.pos[d.ID]; dup {
			return nil, fmt.Errorf("index: %s: document id %q appears twice", dir, d.ID)
		}
		ix.pos[d.ID] = i
	}
	if man.Count > 0 {
		vecs, err := vector.LoadNPY(filepath.Join(dir, VectorsFile))
		if err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		if vecs.Rows != man.Count || vecs.Dim != man.Dim {
			return nil, fmt.Errorf("index: %s: vectors are %d×%d, the manifest says %d×%d", dir, vecs.Rows, vecs.Dim, man.Count, man.Dim)
		}
		ix.vecs = vecs
	}
	if man.Kind == HNSW && man.Count > 0 {
		f, err := os.Open(filepath.Join(dir, GraphFile))
		if err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		g, err := hnsw.Read(bufio.NewReaderSize(f, 1<<20))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("index: %s: %w", filepath.Join(dir, GraphFile), err)
		}
		if g.Len() != man.Count || g.Dim() != man.Dim || g.Params() != *man.HNSW {
			return nil, fmt.Errorf("index: %s: the graph (%d rows, dim %d) does not match the manifest (%d, %d)", dir, g.Len(), g.Dim(), man.Count, man.Dim)
		}
		ix.graph = g
	}
	return ix, nil
}
