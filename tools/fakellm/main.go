// Command fakellm is an OpenAI-compatible chat endpoint on loopback for demos and load tests of `ragnb ask`
// and `ragnb serve` without a model server: it answers every chat completion (plain or streamed) after an
// optional delay with a fixed sentence citing the first passage of the prompt; with -reader it reads ragnb's
// default prompts instead (llmtest.Reader: generated questions from the passage, judge scores, answers), so
// the notebook's "your documents" loop and LLM-judge steps run offline.
//
//	go run ./tools/fakellm -reader   # then OPENAI_BASE_URL=http://127.0.0.1:8091/v1 RAGNB_LLM_MODEL=reader
//	go run ./tools/fakellm -addr 127.0.0.1:8091 -delay 50ms
//	ragnb serve --bm25 --corpus testdata/financial-sample/pairs.csv --llm-model fake --base-url http://127.0.0.1:8091/v1
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"regexp"

	"github.com/ragnb/ragnb/internal/testkit/llmtest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8091", "listen address")
	delay := flag.Duration("delay", 0, "time before each answer (stands in for generation)")
	reader := flag.Bool("reader", false, "answer ragnb's default generation, judge and answer prompts from their text (llmtest.Reader)")
	flag.Parse()
	first := regexp.MustCompile(`\[1\] \(document (\S+)\)`)
	srv := llmtest.New(func(req llmtest.Request, n int) llmtest.Reply {
		if *reader {
			r := llmtest.Reader(req, n)
			r.Delay = *delay
			return r
		}
		doc := "none"
		if m := first.FindStringSubmatch(req.Last()); m != nil {
			doc = m[1]
		}
		return llmtest.Reply{Content: fmt.Sprintf("According to document %s, the answer is in passage [1].", doc), Delay: *delay}
	})
	srv.Close() // llmtest starts on a random port; serve its handler on the requested address instead
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("fake chat endpoint at http://%s/v1 (delay %v)", ln.Addr(), *delay)
	log.Fatal(http.Serve(ln, srv.Config.Handler))
}
