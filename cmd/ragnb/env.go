package main

import (
	"context"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/model/hub"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/ui/display"
	"github.com/ragnb/ragnb/workflow"
)

// progressTo is the command line's progress renderer, the same one the notebook uses (ui/display): a bar redrawn
// in place when stderr is a terminal, else a line with the count and the ETA every 2 s and one when a stage ends.
func progressTo(std *stdio) progress.Func { return progressEvery(std, 2*time.Second) }

// progressEvery is progressTo with the headless lines at most every interval (`train --progress-every`).
func progressEvery(std *stdio, interval time.Duration) progress.Func {
	isTerm := false
	if f, ok := std.err.(*os.File); ok {
		isTerm = term.IsTerminal(int(f.Fd()))
	}
	return display.NewWith(display.Options{Stdout: std.out, Stderr: std.err, StderrIsTerminal: isTerm,
		LineInterval: interval}).Progress()
}

// stepEnv is what the workflow's steps run in from the command line: the step cache named by --cache ("" for
// none), progress on stderr, and Hub ids resolved through the Hugging Face cache.
func stepEnv(std *stdio, cacheDir string) (workflow.Env, error) {
	env := workflow.Env{Progress: progressTo(std), Resolve: func(ctx context.Context, ref string) (string, error) {
		return resolveModel(ctx, ref, std)
	}}
	if cacheDir != "" {
		s, err := cache.Open(cacheDir)
		if err != nil {
			return env, err
		}
		env.Cache = s
	}
	return env, nil
}

// resolveModel turns a directory or a Hub id into a local directory.
func resolveModel(ctx context.Context, nameOrDir string, std *stdio) (string, error) {
	return hub.Resolve(ctx, nameOrDir, hub.FromEnv(), progressTo(std))
}
