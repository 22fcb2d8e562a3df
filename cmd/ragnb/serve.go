package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"time"

	"github.com/ragnb/ragnb/pipeline"
	"github.com/ragnb/ragnb/pipeline/server"
)

func serveCmd() *command {
	return &command{
		name:    "serve",
		summary: "serve the answer pipeline over HTTP: POST /ask {question, top_k?, top_n?, no_llm?} → JSON answer, GET /healthz",
		usage: "(--index DIR [--model DIR] | --model DIR --corpus FILE | --bm25 --corpus FILE) [--reranker DIR]\n" +
			"       [--llm-model NAME --base-url URL ...] [--addr 127.0.0.1:8080] [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			f := &pipelineFlags{}
			f.register(fs)
			addr := fs.String("addr", "127.0.0.1:8080", "listen `address` (host:port; 0.0.0.0:8080 for every interface)")
			maxBody := fs.Int64("max-body", 64<<10, "request body limit in bytes (larger bodies get 413)")
			reqTimeout := fs.Duration("request-timeout", 60*time.Second, "time limit of one /ask, waiting included (then 504 with the passages found so far)")
			maxConc := fs.Int("max-concurrent", 0, "questions answered at once (0: 4 × the number of CPUs)")
			maxQueue := fs.Int("max-queue", 256, "requests that may wait for a free slot; more get 503 with Retry-After")
			maxTopK := fs.Int("max-top-k", 200, "largest top_k / top_n a request may ask for")
			batchWait := fs.Duration("batch-window", 0, "micro-batching: how long a question waits for others to embed with it, e.g. 2ms (0: off; on the pure-Go CPU backend batching measured 20% slower, it is for accelerators)")
			batchMax := fs.Int("batch-max", 32, "micro-batching: most questions embedded in one call")
			grace := fs.Duration("shutdown-grace", 30*time.Second, "on SIGTERM/SIGINT, how long requests in flight may take to finish")
			drain := fs.Duration("drain-delay", 0, "on SIGTERM/SIGINT, how long /healthz answers 503 before the listener closes")
			logFormat := fs.String("log-format", "text", "request log format on stderr: text or json")
			tokenEnv := fs.String("auth-token-env", "", "require \"Authorization: Bearer TOKEN\" on /ask, TOKEN read from this environment `variable` (off by default; /healthz stays open)")
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("serve", args); err != nil {
					return err
				}
				var handler slog.Handler
				switch *logFormat {
				case "text":
					handler = slog.NewTextHandler(std.err, nil)
				case "json":
					handler = slog.NewJSONHandler(std.err, nil)
				default:
					return usagef("--log-format %q: want text or json", *logFormat)
				}
				logger := slog.New(handler)
				token := ""
				if *tokenEnv != "" {
					if token = os.Getenv(*tokenEnv); token == "" {
						return usagef("--auth-token-env %s: the variable is empty or unset", *tokenEnv)
					}
				}
				p, info, err := f.build(ctx, std)
				if err != nil {
					return err
				}
				if *batchWait > 0 && info["retriever"] != "bm25" {
					cfg := p.Config()
					cfg.Retriever = pipeline.Batched(cfg.Retriever, *batchMax, *batchWait)
					if p, err = pipeline.Build(cfg); err != nil {
						return err
					}
				}
				s := server.New(p, server.Options{MaxBodyBytes: *maxBody, Timeout: *reqTimeout, MaxConcurrent: *maxConc,
					MaxQueue: *maxQueue, MaxTopK: *maxTopK, ShutdownGrace: *grace, DrainDelay: *drain, Logger: logger, Info: info, AuthToken: token,
					API: f.served.api(f.rerankerDir, *reqTimeout)})
				attrs := []any{slog.String("addr", "http://"+*addr)}
				for _, k := range []string{"retriever", "docs", "index", "model", "reranker", "llm", "top_k", "top_n"} {
					if v, ok := info[k]; ok {
						attrs = append(attrs, slog.Any(k, v))
					}
				}
				logger.Info("serving", attrs...)
				return s.ListenAndServe(ctx, *addr)
			}
		},
	}
}
