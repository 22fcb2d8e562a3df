package ir

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/ragnb/ragnb/internal/atomicfile"
)

// LoadRun reads a TREC run file: whitespace-separated `query-id Q0 doc-id rank score tag` lines. As in trec_eval,
// the rank column is not used: hits are ranked by score (ties by document id, see Run.Sorted). A document listed
// twice for the same query, a short line or a score that is not a finite number is an error naming the line.
func LoadRun(path string) (Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadRun(f, path)
}

// ReadRun is LoadRun over a reader; name is used in error messages.
func ReadRun(r io.Reader, name string) (Run, error) {
	run := Run{}
	seen := map[[2]string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 6 {
			return nil, fmt.Errorf("read %s line %d: want 6 columns (query-id Q0 doc-id rank score tag), got %d", name, n, len(fields))
		}
		score, err := strconv.ParseFloat(fields[4], 64)
		if err != nil || math.IsNaN(score) || math.IsInf(score, 0) {
			return nil, fmt.Errorf("read %s line %d column score: %q is not a finite number", name, n, fields[4])
		}
		key := [2]string{fields[0], fields[2]}
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("read %s line %d: document %q already ranked for query %q on line %d", name, n, fields[2], fields[0], prev)
		}
		seen[key] = n
		run[fields[0]] = append(run[fields[0]], Hit{DocID: fields[2], Score: score})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return run, nil
}

// WriteRun writes a run in TREC format, queries in id order, hits ranked (rank 1 first) with tag in the last
// column. Scores are written with full float64 precision so a run read back evaluates identically.
func WriteRun(w io.Writer, run Run, tag string) error {
	if tag == "" {
		tag = "ragnb"
	}
	if strings.ContainsAny(tag, " \t\n") {
		return fmt.Errorf("run tag %q contains whitespace", tag)
	}
	qids := make([]string, 0, len(run))
	for q := range run {
		qids = append(qids, q)
	}
	sort.Strings(qids)
	bw := bufio.NewWriter(w)
	for _, q := range qids {
		for i, h := range run.Sorted(q) {
			if strings.ContainsAny(q+h.DocID, " \t\n") {
				return fmt.Errorf("query %q document %q: TREC ids cannot contain whitespace", q, h.DocID)
			}
			fmt.Fprintf(bw, "%s Q0 %s %d %s %s\n", q, h.DocID, i+1, strconv.FormatFloat(h.Score, 'g', -1, 64), tag)
		}
	}
	return bw.Flush()
}

// SaveRun writes a run file atomically.
func SaveRun(path string, run Run, tag string) error {
	var sb strings.Builder
	if err := WriteRun(&sb, run, tag); err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, []byte(sb.String()))
}
