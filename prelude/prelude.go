// Package prelude is the notebook and script API of ragnb: chainable, non-generic helpers (so the yaegi REPL
// can expose them) over the library packages. The GoNB kernel "Go (ragnb)" preloads it, so cells use
// prelude.X with no setup cell and no import line. Logic lives in the library; the prelude only composes it
// and turns results into displays.
package prelude
