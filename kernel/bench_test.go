package kernel

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCellBuild times what the kernel's go wrapper does for a cell that uses the prelude, as GoNB asks for
// it in a new kernel session (`go build -o DIR/gonb_<id>` in a new gonb_<id> module):
//   - unchanged: the same cell was built before (in another session), so Go finds the program up to date;
//   - cache-off: RAGNB_CELL_CACHE=off, the cell is compiled and linked in place, as GoNB alone does.
//
// Both start from a warm Go build cache (one build before the timer), so the difference is the link.
func BenchmarkCellBuild(b *testing.B) {
	const cell = `package main

import (
	"fmt"

	"github.com/ragnb/ragnb/prelude"
)

func main() { fmt.Println(prelude.BackendInfo()) }
`
	for _, mode := range []struct{ name, cache string }{{"unchanged", b.TempDir()}, {"cache-off", "off"}} {
		b.Run(mode.name, func(b *testing.B) {
			_, sh := kernelShell(b, "RAGNB_CELL_CACHE="+mode.cache)
			session := func(id int) (dir, bin string) {
				dir = filepath.Join(b.TempDir(), "gonb_"+string(rune('a'+id%26))+"000")
				os.Mkdir(dir, 0o700)
				if out, err := sh(dir, "go", "mod", "init", filepath.Base(dir)); err != nil {
					b.Fatalf("mod init: %v\n%s", err, out)
				}
				os.WriteFile(filepath.Join(dir, "main.go"), []byte(cell), 0o644)
				return dir, filepath.Join(dir, filepath.Base(dir))
			}
			dir, bin := session(0)
			if out, err := sh(dir, "go", "build", "-o", bin); err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				dir, bin := session(i + 1)
				b.StartTimer()
				if out, err := sh(dir, "go", "build", "-o", bin); err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
			}
		})
	}
}
