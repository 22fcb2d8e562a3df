//go:build unix

package atomicfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteFollowsTheUmask: a written file and a staging folder get 0666 and 0777 less the umask, like
// os.Create and os.Mkdir, not 0600 and 0700. The test sets the process umask, so it does not run in parallel.
func TestWriteFollowsTheUmask(t *testing.T) {
	for _, tc := range []struct {
		umask        int
		file, folder os.FileMode
	}{
		{0o022, 0o644, 0o755},
		{0o027, 0o640, 0o750},
		{0o077, 0o600, 0o700},
	} {
		old := syscall.Umask(tc.umask)
		dir := t.TempDir()
		p := filepath.Join(dir, "out.jsonl")
		err := WriteBytes(p, []byte("{}\n"))
		d, derr := MkdirTemp(dir, ".stage-")
		syscall.Umask(old)
		if err != nil || derr != nil {
			t.Fatal(err, derr)
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != tc.file {
			t.Errorf("umask %03o: file mode %v, want %v", tc.umask, st.Mode().Perm(), tc.file)
		}
		if st, _ := os.Stat(d); !st.IsDir() || st.Mode().Perm() != tc.folder {
			t.Errorf("umask %03o: folder mode %v, want %v", tc.umask, st.Mode().Perm(), tc.folder)
		}
	}
}
