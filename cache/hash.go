package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// HashBytes is the hex SHA-256 of b.
func HashBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// HashStrings hashes a list of strings unambiguously (each is length-prefixed), e.g. a parent hash and the
// operation applied to it.
func HashStrings(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		io.WriteString(h, p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// HashFile is the hex SHA-256 of a file's content (its name does not count).
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// HashDir hashes a directory tree: the sorted list of its regular files' slash-separated relative paths, each
// with its content hash. It does not depend on the order the file system lists files in, on modification
// times or permissions; renaming, adding, removing or changing a file changes it. Symbolic links are followed
// to the file they point to; empty directories do not count.
func HashDir(dir string) (string, error) {
	type file struct{ rel, hash string }
	var files []file
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := os.Stat(path) // follows links
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		sum, err := HashFile(path)
		if err != nil {
			return err
		}
		files = append(files, file{filepath.ToSlash(rel), sum})
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash dir %s: %w", dir, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	parts := make([]string, 0, 2*len(files))
	for _, f := range files {
		parts = append(parts, f.rel, f.hash)
	}
	return HashStrings(parts...), nil
}

// HashPath hashes a file with HashFile or a directory with HashDir.
func HashPath(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if info.IsDir() {
		return HashDir(path)
	}
	return HashFile(path)
}
