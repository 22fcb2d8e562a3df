package repl

import "reflect"

// Symbols are the compiled packages the interpreter can import, by "import/path/name" as yaegi expects. The
// generated z_*.go files fill it in their init functions; it is not changed afterwards.
var Symbols = map[string]map[string]reflect.Value{}

// The packages extracted for the REPL: the prelude, what its API hands out (gota frames, tables, plots,
// display, progress), the retrieval evaluation and mining it composes (bm25, ir, evaluate, mining) and the
// answer pipeline (index, pipeline). Re-run `go generate ./repl`
// when their exported API changes; TestSymbolsUpToDate fails until then. Generic declarations are dropped by
// yaegi, so these packages keep their public API non-generic.
//
//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract -name repl github.com/ragnb/ragnb/prelude github.com/ragnb/ragnb/ui/display github.com/ragnb/ragnb/progress github.com/go-gota/gota/dataframe github.com/go-gota/gota/series github.com/ragnb/ragnb/ui/tables github.com/ragnb/ragnb/plots github.com/ragnb/ragnb/retrieval/bm25 github.com/ragnb/ragnb/ir github.com/ragnb/ragnb/retrieval/evaluate github.com/ragnb/ragnb/retrieval/mining github.com/ragnb/ragnb/retrieval/index github.com/ragnb/ragnb/pipeline
