// Package atomicfile writes files so that a reader never sees half of one: the content goes to a temporary
// file in the destination's directory, which is then renamed over the destination. A crash, an error or an
// interrupt leaves any earlier file at the path untouched. Every package that writes results, caches,
// models or checkpoints writes through it.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write creates path from what fill writes into the temporary file (a new file, mode 0600 unless fill
// changes it; fill may also Sync it for durability). An error from fill, or from closing or renaming, removes
// the temporary file and is returned naming path. The directory must exist.
func Write(path string, fill func(f *os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := fill(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteBytes creates path with data (see Write).
func WriteBytes(path string, data []byte) error {
	return Write(path, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// WriteBytesMode creates path with data and file mode perm (see Write).
func WriteBytesMode(path string, data []byte, perm os.FileMode) error {
	return Write(path, func(f *os.File) error {
		if err := f.Chmod(perm); err != nil {
			return err
		}
		_, err := f.Write(data)
		return err
	})
}
