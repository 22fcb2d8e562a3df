package mining

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/vector"
)

// Negative is one mined negative of a query.
type Negative struct {
	// Passage is the index in Set.Corpus.
	Passage int
	// Score is the cosine similarity to the query; Distance its distance (Options.Window's kind).
	Score, Distance float64
	// Rank is the 1-based position among the query's retrieved passages ordered by Score, positives
	// included; 0 for a passage the random fallback drew from outside them.
	Rank int
	// CEScore is the cross-encoder's score (NaN without a cross-encoder).
	CEScore float64
	// Fallback marks a negative added by the fallback (outside the window, or drawn at random).
	Fallback bool
}

// QueryResult is what was mined for one query of the Set.
type QueryResult struct {
	// Negatives are the chosen negatives, highest score first.
	Negatives []Negative
	// PositiveScores and PositiveDistances are aligned with Set.Positives of the query.
	PositiveScores, PositiveDistances []float64
	// Eligible counts the retrieved candidates that passed every filter within the rank range (before the
	// cross-encoder check and sampling).
	Eligible int
	// Skipped: the query had fewer than NumNegatives negatives and FallbackSkip left it out.
	Skipped bool
}

// Select chooses negatives for every query of p. It fails when opts.TopK exceeds the hits p holds (unless p
// already holds the whole corpus), or the cross-encoder fails.
func Select(ctx context.Context, p *Prepared, opts Options, report progress.Func) (*Result, error) {
	opts, err := opts.WithDefaults()
	if err != nil {
		return nil, err
	}
	set := p.Set
	nq, nc := len(set.Queries), len(set.Corpus)
	if p.Queries == nil || p.Corpus == nil || p.Queries.Rows != nq || p.Corpus.Rows != nc || len(p.Hits) != nq {
		return nil, fmt.Errorf("mine: prepared data does not match the set (%d queries, %d passages)", nq, nc)
	}
	if p.Queries.Dim != p.Corpus.Dim {
		return nil, fmt.Errorf("mine: query embeddings have dimension %d, passages %d", p.Queries.Dim, p.Corpus.Dim)
	}
	k := min(opts.TopK, nc)
	if p.K() < k {
		return nil, fmt.Errorf("mine: top-k %d but only %d hits per query were retrieved (prepare with a larger top-k)", opts.TopK, p.K())
	}
	for q, hs := range p.Hits {
		for _, h := range hs {
			if h < 0 || int(h) >= nc {
				return nil, fmt.Errorf("mine: query %d: hit %d outside the corpus (%d passages)", q, h, nc)
			}
		}
	}
	s := &selector{p: p, o: opts, k: k, dist: opts.Window.Kind(), res: make([]QueryResult, nq), st: make([]queryStats, nq)}
	s.qNorm = norms(p.Queries)
	s.cNorm = norms(p.Corpus)
	s.queryDoc = make([]int, nq)
	docOf := make(map[string]int, nc)
	for i, t := range set.Corpus {
		docOf[t] = i
	}
	for q, t := range set.Queries {
		s.queryDoc[q] = -1
		if d, ok := docOf[t]; ok {
			s.queryDoc[q] = d
		}
	}
	tracker := progress.Start(report, "select negatives", nq, "queries")
	s.queues = make([]*queue, nq)
	if opts.Fallback == FallbackNearest {
		s.outside = make([][]cand, nq)
	}
	candDist := make([][]float64, nq)
	parallel(nq, func(q int) {
		candDist[q] = s.filter(q)
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mine: %w", err)
	}
	tracker.Set(nq, nil)
	if err := s.take(ctx, report); err != nil {
		return nil, err
	}
	if err := s.fallback(ctx, report); err != nil {
		return nil, err
	}
	tracker.Finish()
	r := &Result{Set: set, Options: opts, Queries: s.res}
	for q := range s.res {
		r.PositiveDistances = append(r.PositiveDistances, s.res[q].PositiveDistances...)
		r.CandidateDistances = append(r.CandidateDistances, candDist[q]...)
	}
	r.Stats = s.stats()
	r.Stats.Window = opts.Window
	r.Stats.PositiveDistances, r.Stats.CandidateDistances = Summarize(r.PositiveDistances), Summarize(r.CandidateDistances)
	return r, nil
}

// queryStats are one query's filter counts (summed into Stats).
type queryStats struct {
	candidates, positive, anchor, absMargin, relMargin, maxScore, minScore, tooClose, tooFar, rangeOut int
	ceDropped, ceScored, short, empty, fromFallback                                                    int
}

type selector struct {
	p            *Prepared
	o            Options
	k            int
	dist         Distance
	qNorm, cNorm []float64
	queryDoc     []int // corpus index whose text equals the query's, or -1
	res          []QueryResult
	st           []queryStats
	queues       []*queue
	outside      [][]cand // window-only rejects, for FallbackNearest
	minPosCE     []float64
}

// cand is a candidate passage with its scores.
type cand struct {
	doc         int
	score, dist float64
	rank        int
}

// queue hands out a query's candidates in the order they are to be taken.
type queue struct {
	items []cand
	next  func() (cand, bool) // used when items is nil (the random fallback)
}

func (qu *queue) pop() (cand, bool) {
	if qu.next != nil {
		return qu.next()
	}
	if len(qu.items) == 0 {
		return cand{}, false
	}
	c := qu.items[0]
	qu.items = qu.items[1:]
	return c, true
}

func norms(m *vector.Matrix) []float64 {
	out := make([]float64, m.Rows)
	for i := range out {
		r := m.Row(i)
		out[i] = vector.Dot(r, r)
	}
	return out
}

// cos is vector.Cosine with the squared norms precomputed (the same operations, so the same value).
func (s *selector) cos(q, d int) float64 {
	nq, nd := s.qNorm[q], s.cNorm[d]
	if nq == 0 || nd == 0 {
		return 0
	}
	return vector.Dot(s.p.Queries.Row(q), s.p.Corpus.Row(d)) / math.Sqrt(nq*nd)
}

func (s *selector) candidate(q, d, rank int) cand {
	c := s.cos(q, d)
	return cand{doc: d, score: c, dist: s.dist.Of(c), rank: rank}
}

// filter applies the positive exclusion, the score filters, the window and the rank range to query q's hits,
// fills its queue (in the order negatives are taken) and returns the distances of its non-positive
// candidates, for the histogram.
func (s *selector) filter(q int) []float64 {
	o, st, res := s.o, &s.st[q], &s.res[q]
	pos := s.p.Set.Positives[q]
	minPos := math.Inf(1)
	for _, d := range pos {
		c := s.cos(q, d)
		res.PositiveScores = append(res.PositiveScores, c)
		res.PositiveDistances = append(res.PositiveDistances, s.dist.Of(c))
		minPos = math.Min(minPos, c)
	}
	hits := s.p.Hits[q][:s.k]
	cands := make([]cand, len(hits))
	for i, h := range hits {
		cands[i] = s.candidate(q, int(h), 0)
	}
	sort.SliceStable(cands, func(a, b int) bool {
		if cands[a].score != cands[b].score {
			return cands[a].score > cands[b].score
		}
		return cands[a].doc < cands[b].doc
	})
	st.candidates = len(cands)
	var eligible, outside []cand
	dists := make([]float64, 0, len(cands))
	for i := range cands {
		c := &cands[i]
		c.rank = i + 1
		if o.RetrievedRanks && (i < o.RangeMin || i >= o.RangeMax) {
			st.rangeOut++
			continue
		}
		if slices.Contains(pos, c.doc) {
			st.positive++
			continue
		}
		dists = append(dists, c.dist)
		switch {
		case c.doc == s.queryDoc[q]:
			st.anchor++
		case o.AbsoluteMargin != nil && c.score+*o.AbsoluteMargin > minPos:
			st.absMargin++
		case o.RelativeMargin != nil && c.score > minPos-math.Abs(minPos)**o.RelativeMargin:
			st.relMargin++
		case o.MaxScore != nil && c.score > *o.MaxScore:
			st.maxScore++
		case o.MinScore != nil && c.score < *o.MinScore:
			st.minScore++
		case o.Window.Enabled() && c.dist <= o.Window.Min:
			st.tooClose++
			outside = append(outside, *c)
		case o.Window.Enabled() && c.dist > o.Window.Max:
			st.tooFar++
			outside = append(outside, *c)
		default:
			eligible = append(eligible, *c)
		}
	}
	if !o.RetrievedRanks {
		lo, hi := min(o.RangeMin, len(eligible)), min(o.RangeMax, len(eligible))
		st.rangeOut = len(eligible) - (hi - lo)
		eligible = eligible[lo:hi]
	}
	res.Eligible = len(eligible)
	if len(eligible) == 0 {
		st.empty = 1
	}
	if o.Sampling == SampleRandom {
		rng := s.rng(q, 0)
		rng.Shuffle(len(eligible), func(i, j int) { eligible[i], eligible[j] = eligible[j], eligible[i] })
	}
	s.queues[q] = &queue{items: eligible}
	if o.Fallback == FallbackNearest {
		w := o.Window
		gap := func(c cand) float64 { return math.Max(w.Min-c.dist, c.dist-w.Max) }
		sort.SliceStable(outside, func(a, b int) bool { return gap(outside[a]) < gap(outside[b]) })
		s.outside[q] = outside // each query writes its own slot
	}
	return dists
}

// rng is query q's generator for a purpose (0 sampling, 1 random fallback): the same seed gives the same
// draws whatever the concurrency.
func (s *selector) rng(q int, purpose uint64) *rand.Rand {
	return rand.New(rand.NewPCG(s.o.Seed, uint64(q)<<1|purpose))
}

func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	next := make(chan int, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// take fills each query's negatives from its queue, and records which queries came up short.
func (s *selector) take(ctx context.Context, report progress.Func) error {
	if s.o.CrossEncoder != nil && s.o.CEThreshold == nil {
		if err := s.positiveCE(ctx, report); err != nil {
			return err
		}
	}
	if err := s.accept(ctx, s.queues, false, report); err != nil {
		return err
	}
	for q := range s.res {
		if len(s.res[q].Negatives) < s.o.NumNegatives {
			s.st[q].short = 1
		}
	}
	return nil
}

// positiveCE scores every (query, positive) pair with the cross-encoder and keeps each query's lowest score.
func (s *selector) positiveCE(ctx context.Context, report progress.Func) error {
	var pairs []ir.Pair
	var owner []int
	for q, pos := range s.p.Set.Positives {
		for _, d := range pos {
			pairs = append(pairs, ir.Pair{Query: s.p.Set.Queries[q], Passage: s.p.Set.Corpus[d]})
			owner = append(owner, q)
		}
	}
	scores, err := s.o.CrossEncoder.ScorePairs(ctx, pairs, report)
	if err == nil && len(scores) != len(pairs) {
		err = fmt.Errorf("%d scores for %d pairs", len(scores), len(pairs))
	}
	if err != nil {
		return fmt.Errorf("mine: cross-encoder scores of the positives: %w", err)
	}
	s.minPosCE = make([]float64, len(s.res))
	for q := range s.minPosCE {
		s.minPosCE[q] = math.Inf(1)
	}
	for i, sc := range scores {
		if math.IsNaN(sc) {
			return fmt.Errorf("mine: the cross-encoder gave no score (NaN) for the positive of query %d", owner[i])
		}
		s.minPosCE[owner[i]] = math.Min(s.minPosCE[owner[i]], sc)
	}
	return nil
}

// accept pops candidates from the queues until every query has NumNegatives negatives or its queue is
// exhausted. With a cross-encoder it works in rounds: each round takes, for every query still short, as
// many candidates as it lacks, scores them all in one call and keeps those the cross-encoder does not flag.
func (s *selector) accept(ctx context.Context, queues []*queue, fallback bool, report progress.Func) error {
	n := s.o.NumNegatives
	for round := 0; ; round++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("mine: %w", err)
		}
		var batch []cand
		var owner []int
		for q, qu := range queues {
			if qu == nil {
				continue
			}
			for need := n - len(s.res[q].Negatives); need > 0; need-- {
				c, ok := qu.pop()
				if !ok {
					queues[q] = nil
					break
				}
				batch = append(batch, c)
				owner = append(owner, q)
			}
		}
		if len(batch) == 0 {
			return nil
		}
		ce := make([]float64, len(batch))
		for i := range ce {
			ce[i] = math.NaN()
		}
		if s.o.CrossEncoder != nil {
			pairs := make([]ir.Pair, len(batch))
			for i, c := range batch {
				pairs[i] = ir.Pair{Query: s.p.Set.Queries[owner[i]], Passage: s.p.Set.Corpus[c.doc]}
			}
			scores, err := s.o.CrossEncoder.ScorePairs(ctx, pairs, report)
			if err == nil && len(scores) != len(pairs) {
				err = fmt.Errorf("%d scores for %d pairs", len(scores), len(pairs))
			}
			if err != nil {
				return fmt.Errorf("mine: cross-encoder check, round %d (%d pairs): %w", round+1, len(pairs), err)
			}
			ce = scores
		}
		for i, c := range batch {
			q := owner[i]
			if s.o.CrossEncoder != nil {
				s.st[q].ceScored++
				var limit float64
				if s.o.CEThreshold != nil {
					limit = *s.o.CEThreshold
				} else {
					limit = s.minPosCE[q]
				}
				// A NaN score cannot vouch for the candidate: it is dropped too.
				if math.IsNaN(ce[i]) || ce[i] > limit {
					s.st[q].ceDropped++
					continue
				}
			}
			s.res[q].Negatives = append(s.res[q].Negatives, Negative{Passage: c.doc, Score: c.score, Distance: c.dist,
				Rank: c.rank, CEScore: ce[i], Fallback: fallback})
			if fallback {
				s.st[q].fromFallback++
			}
		}
	}
}

// fallback tops up the queries that came up short, or drops them, and orders every query's negatives.
func (s *selector) fallback(ctx context.Context, report progress.Func) error {
	n := s.o.NumNegatives
	queues := make([]*queue, len(s.res))
	some := false
	for q := range s.res {
		if len(s.res[q].Negatives) >= n {
			continue
		}
		switch s.o.Fallback {
		case FallbackNearest:
			queues[q] = &queue{items: s.outside[q]}
			some = true
		case FallbackRandom:
			queues[q] = s.randomQueue(q)
			some = true
		}
	}
	if some {
		if err := s.accept(ctx, queues, true, report); err != nil {
			return err
		}
	}
	for q := range s.res {
		r := &s.res[q]
		if len(r.Negatives) < n && s.o.Fallback == FallbackSkip {
			r.Skipped, r.Negatives = true, nil
			continue
		}
		sort.SliceStable(r.Negatives, func(a, b int) bool { return r.Negatives[a].Score > r.Negatives[b].Score })
	}
	return nil
}

// randomQueue draws passages uniformly without replacement from the corpus, leaving out the query's
// retrieved candidates (each was already taken or rejected), its positives and the query's own text, and
// any passage the margins or max_score reject.
func (s *selector) randomQueue(q int) *queue {
	nc := len(s.p.Set.Corpus)
	excluded := map[int]bool{}
	for _, h := range s.p.Hits[q][:s.k] {
		excluded[int(h)] = true
	}
	for _, d := range s.p.Set.Positives[q] {
		excluded[d] = true
	}
	if s.queryDoc[q] >= 0 {
		excluded[s.queryDoc[q]] = true
	}
	minPos := math.Inf(1)
	for _, sc := range s.res[q].PositiveScores {
		minPos = math.Min(minPos, sc)
	}
	o := s.o
	perm := lazyPerm{n: nc, rng: s.rng(q, 1), swaps: map[int]int{}}
	return &queue{next: func() (cand, bool) {
		for {
			d, ok := perm.next()
			if !ok {
				return cand{}, false
			}
			if excluded[d] {
				continue
			}
			c := s.candidate(q, d, 0)
			if (o.AbsoluteMargin != nil && c.score+*o.AbsoluteMargin > minPos) ||
				(o.RelativeMargin != nil && c.score > minPos-math.Abs(minPos)**o.RelativeMargin) ||
				(o.MaxScore != nil && c.score > *o.MaxScore) {
				continue
			}
			return c, true
		}
	}}
}

// lazyPerm yields a uniform random permutation of 0..n-1 one element at a time (Fisher–Yates with the swaps
// kept in a map), so a few draws cost a few steps, not n.
type lazyPerm struct {
	n, i  int
	rng   *rand.Rand
	swaps map[int]int
}

func (p *lazyPerm) at(i int) int {
	if v, ok := p.swaps[i]; ok {
		return v
	}
	return i
}

func (p *lazyPerm) next() (int, bool) {
	if p.i >= p.n {
		return 0, false
	}
	j := p.i + p.rng.IntN(p.n-p.i)
	vi, vj := p.at(p.i), p.at(j)
	p.swaps[j] = vi
	delete(p.swaps, p.i)
	p.i++
	return vj, true
}
