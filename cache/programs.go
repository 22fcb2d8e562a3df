package cache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// ProgramsSubdir is the programs directory's path under the user's cache directory.
const ProgramsSubdir = "ragnb/cells"

// EnvPrograms overrides where built cell and notebook programs are kept; "off" keeps none. The kernel's go
// wrapper (package kernel) reads the same variable and uses the same default.
const EnvPrograms = "RAGNB_CELL_CACHE"

// KeepPrograms is how many built programs the programs directory keeps, the most recently used first. A program
// that uses the prelude is ~55 MB, so this bounds the directory near 2 GB.
const KeepPrograms = 32

// ProgramsDir is where programs built from notebooks are kept so that an unchanged one is not linked again:
// $RAGNB_CELL_CACHE when set ("" when it is "off"), else ragnb/cells in the user's cache directory
// ($XDG_CACHE_HOME or ~/.cache). Each program lives in a directory named after its sources' content, since Go
// puts the source directory into a program's build ID; Go's own build-ID check then decides whether the
// program there is up to date (it covers every dependency, flag and the toolchain).
func ProgramsDir() string {
	switch d := os.Getenv(EnvPrograms); d {
	case "off":
		return ""
	case "":
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(base, filepath.FromSlash(ProgramsSubdir))
	default:
		return d
	}
}

// TrimPrograms removes all but the keep most recently used entries of the programs directory dir (by
// modification time; users touch their entry). Hidden entries (work in progress) are left alone.
func TrimPrograms(dir string, keep int) error {
	list, err := ListPrograms(dir)
	if err != nil || len(list) <= keep {
		return err
	}
	var first error
	for _, p := range list[keep:] {
		if err := os.RemoveAll(filepath.Join(dir, p.Name)); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Program is one entry of the programs directory: a cell's or a notebook's sources and their built program.
type Program struct {
	// Name is the entry's directory name: a hash of the sources ("nb-" for whole notebooks run headless).
	Name string
	// Size is the bytes of the entry's files.
	Size int64
	// Used is when a build last used it.
	Used time.Time
}

// ListPrograms lists the programs directory dir, most recently used first; a missing dir is empty.
func ListPrograms(dir string) ([]Program, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []Program
	for _, e := range entries {
		if e.Name()[0] == '.' || !e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		p := Program{Name: e.Name(), Used: info.ModTime()}
		filepath.WalkDir(filepath.Join(dir, e.Name()), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if fi, err := d.Info(); err == nil {
					p.Size += fi.Size()
				}
			}
			return nil
		})
		list = append(list, p)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Used.After(list[j].Used) })
	return list, nil
}

// ClearPrograms removes the programs last used before before (all of them when before is zero) and returns them.
func ClearPrograms(dir string, before time.Time) ([]Program, error) {
	list, err := ListPrograms(dir)
	if err != nil {
		return nil, err
	}
	var removed []Program
	for _, p := range list {
		if !before.IsZero() && !p.Used.Before(before) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, p.Name)); err != nil {
			return removed, err
		}
		removed = append(removed, p)
	}
	return removed, nil
}
