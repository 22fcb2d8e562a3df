package synth

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ragnb/ragnb/data/documents"
	"github.com/ragnb/ragnb/data/llm"
	"github.com/ragnb/ragnb/internal/testkit/llmtest"
)

func benchChunks(n int) []documents.Chunk {
	var cs []documents.Chunk
	for i := 0; i < n; i++ {
		cs = append(cs, documents.Chunk{ID: fmt.Sprint(i), Index: i, Text: fmt.Sprintf(
			"Company %d reported quarterly revenue growth of %d percent, driven by cloud services and new data center capacity in Europe.", i, i%40)})
	}
	return cs
}

// BenchmarkGenerateQA measures GenerateQA against the in-process OpenAI-compatible server: requests per second
// at a given server latency and concurrency (no cache), and chunks per second replayed from the cache.
func BenchmarkGenerateQA(b *testing.B) {
	const nChunks = 64
	chunks := benchChunks(nChunks)
	for _, bc := range []struct {
		latency     time.Duration
		concurrency int
	}{{0, 4}, {20 * time.Millisecond, 1}, {20 * time.Millisecond, 4}, {20 * time.Millisecond, 16}} {
		b.Run(fmt.Sprintf("latency=%v/concurrency=%d", bc.latency, bc.concurrency), func(b *testing.B) {
			srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
				return llmtest.Reply{Delay: bc.latency, Content: jsonQuestions(questionsAbout(passageOf(r.Last()), 3))}
			})
			defer srv.Close()
			c := client(b, srv, "", nil, func(cfg *llm.Config) { cfg.NoCache = true; cfg.Concurrency = bc.concurrency })
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if _, sum, err := GenerateQA(context.Background(), c, chunks, Config{}, nil); err != nil || sum.Generated != 3*nChunks {
					b.Fatalf("%v %s", err, sum)
				}
			}
			b.ReportMetric(float64(b.N*nChunks)/time.Since(start).Seconds(), "requests/s")
		})
	}
	b.Run("cached", func(b *testing.B) {
		srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
			return llmtest.Reply{Content: jsonQuestions(questionsAbout(passageOf(r.Last()), 3))}
		})
		defer srv.Close()
		dir := b.TempDir()
		if _, _, err := GenerateQA(context.Background(), client(b, srv, dir, nil, nil), chunks, Config{}, nil); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			_, sum, err := GenerateQA(context.Background(), client(b, srv, dir, nil, nil), chunks, Config{}, nil)
			if err != nil || sum.LLM.Requests != 0 || sum.LLM.CacheHits != nChunks {
				b.Fatalf("%v %+v", err, sum.LLM)
			}
		}
		b.ReportMetric(float64(b.N*nChunks)/time.Since(start).Seconds(), "chunks/s")
		b.ReportMetric(time.Since(start).Seconds()/float64(b.N)*1000, "ms/rerun")
	})
}
