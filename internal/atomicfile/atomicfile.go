// Package atomicfile writes files so that a reader never sees half of one: the content goes to a temporary
// file in the destination's directory, which is then renamed over the destination. A crash, an error or an
// interrupt leaves any earlier file at the path untouched. Every package that writes results, caches,
// models or checkpoints writes through it.
//
// Files and folders are created with modes 0666 and 0777 and the process's umask applied by the operating
// system, as os.Create and os.Mkdir do, so results are as readable as any other file the user writes
// (os.CreateTemp and os.MkdirTemp would make them 0600 and 0700 whatever the umask).
package atomicfile

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Write creates path from what fill writes into the temporary file (a new file, mode 0666 less the umask
// unless fill changes it; fill may also Sync it for durability). An error from fill, or from closing or
// renaming, removes the temporary file and is returned naming path. The directory must exist.
func Write(path string, fill func(f *os.File) error) error {
	tmp, err := createTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
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

// MkdirTemp creates a new folder in parent named prefix and a random suffix, mode 0777 less the umask, and
// returns its path: the staging folder of a result that is renamed into place once complete.
func MkdirTemp(parent, prefix string) (string, error) {
	for range 100 {
		p := filepath.Join(parent, prefix+rand.Text()[:12])
		err := os.Mkdir(p, 0o777)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("mkdir %s: no unused name", filepath.Join(parent, prefix+"*"))
}

// createTemp opens a new file in dir named prefix and a random suffix, mode 0666 less the umask.
func createTemp(dir, prefix string) (*os.File, error) {
	for range 100 {
		f, err := os.OpenFile(filepath.Join(dir, prefix+rand.Text()[:12]), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("create %s: no unused name", filepath.Join(dir, prefix+"*"))
}
