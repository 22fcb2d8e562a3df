// Package prelude is the notebook and script API of ragnb: chainable, non-generic helpers (so the yaegi REPL
// can expose them) over the library packages. The GoNB kernel "Go (ragnb)" preloads it, so cells use
// prelude.X with no setup cell and no import line. Logic lives in the library; the prelude only composes it
// and turns results into displays.
//
// # What a notebook looks like
//
// GoNB compiles and runs every cell as a new process. Declarations survive between cells; values do not,
// and every top-level var is evaluated again in every later cell. So declare the data once, with loads and
// memoised steps only, and display it in %% cells:
//
//	var pairs = prelude.Load("financial").   // $RAGNB_DATA, else the embedded sample (518 pairs)
//		Rename("question", "anchor").
//		Rename("context", "positive").
//		Select("anchor", "positive").
//		DropEmpty().
//		Dedupe("anchor", "positive")
//
//	var train, test = pairs.Split(0.1, 42)   // ceil(10%) test rows, seeded like datasets' train_test_split
//
//	%%
//	pairs.Display()   // HTML table: first and last rows, "… N more rows …", 518 rows × 2 columns
//
//	%%
//	fmt.Println(train.Len(), test.Len())   // 466 52
//
// Metrics and charts display the same way:
//
//	var base = prelude.LoadMetrics("base.json")        // `ragnb eval --json base.json`
//	var tuned = prelude.LoadMetrics("tuned.json")
//
//	%%
//	prelude.Compare(base, tuned, "ndcg@10").Display()   // dim, base, fine-tuned, Δ, % change (green / red)
//	prelude.PlotByDimension("ndcg@10", base, tuned).Display()
//
// # Errors
//
// A chain carries its first error; later steps are skipped and counted, and the error shows where the chain
// is displayed, naming the call that failed and what there is instead:
//
//	✗ Load("financial").Rename("querstion", "anchor") failed (3 later steps skipped)
//	  Rename("querstion", "anchor"): no column "querstion" (columns: question, answer, context, ticker, filing)
//
// Err() returns it for code; Must() panics with it (for exported programs). Accessors of a failed chain
// return zero values (Len() is 0, Column is nil), so check Err() before relying on them.
//
// # The second run
//
// Expensive steps are memoised on disk under .ragnb/ beside the notebook ($RAGNB_CACHE overrides; `ragnb
// cache ls|clear` manages it). A step's key is its name and version, the content hashes of its inputs and
// its parameters; a hit loads the stored result instead of recomputing it, a miss computes it and stores it
// atomically (an interrupted or failed step stores nothing). Re-running the notebook with the same inputs
// therefore replays every cell from the cache; changing one parameter (the mining window, the batch size)
// changes only that step's key and the keys of the steps that consume its output, so only those run again.
// Dataset.Step and Memo memoise your own steps the same way.
//
// A Dataset's identity in those keys is its content (Hash): the same rows reached by a different chain hit
// the same entries, and a changed file misses.
package prelude
