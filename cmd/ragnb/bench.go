package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/kernel"
	"github.com/ragnb/ragnb/workflow"
)

// benchRows are the table's rows: key, label, and whether a larger figure is better (rates) or worse (times,
// memory).
var benchRows = []struct {
	key, label string
	higherWins bool
}{
	{workflow.BenchTrainStep, "MiniLM-shape train step (s)", false},
	{workflow.BenchTrainRSS, "  its peak resident memory (MB)", false},
	{workflow.BenchEmbed, "embed, forward + mean pooling (texts/s)", true},
	{workflow.BenchStaticStep, "static model train step (s)", false},
	{workflow.BenchSearch, "exact top-k search (s)", false},
	{workflow.BenchModernBERT, "ModernBERT-base forward, 4 × 512 (s)", false},
}

func benchCmd() *command {
	return &command{
		name:    "bench",
		summary: "measure the train step, embedding, the static step, exact search and the ModernBERT forward on this machine, beside PyTorch with --peer",
		usage:   "[--json FILE] [--peer] [--repeat N] [--only KEY,...] [--quick]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			jsonOut := fs.String("json", "", "write the figures as JSON to this file (- for stdout); keys: "+strings.Join(benchKeys(), ", ")+"; with --peer also peer_<key>")
			peer := fs.Bool("peer", false, "also run the same shapes in PyTorch (tools/bench_peer.py with Debian's python3-torch) in the same run and print the ratios")
			repeat := fs.Int("repeat", 3, "timed runs per figure after one warm-up; the median is reported")
			only := fs.String("only", "", "comma-separated keys to measure (default: all)")
			quick := fs.Bool("quick", false, "tiny shapes: checks that everything runs, in seconds; the figures mean nothing")
			threads := fs.Int("peer-threads", 2, "torch.set_num_threads of the peer")
			child := fs.Bool("child", false, "internal: measure the train step alone and print its JSON (for the peak memory)")
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("bench", args); err != nil {
					return err
				}
				opts := workflow.BenchOptions{Repeat: *repeat, Quick: *quick}
				if *only != "" {
					opts.Only = strings.Split(*only, ",")
				}
				if *child {
					opts.Only = []string{workflow.BenchTrainStep}
					r, err := workflow.Bench(ctx, opts)
					if err != nil {
						return err
					}
					return json.NewEncoder(std.out).Encode(r.Figures)
				}
				figures, shapes, err := runBench(ctx, std, opts)
				if err != nil {
					return err
				}
				var peerFigures map[string]float64
				if *peer {
					if peerFigures, err = runPeer(ctx, opts, *threads); err != nil {
						return err
					}
				}
				printBench(std.out, figures, peerFigures, shapes)
				if *jsonOut != "" {
					out := map[string]any{}
					for k, v := range figures {
						out[k] = v
					}
					for k, v := range peerFigures {
						out["peer_"+k] = v
					}
					b, err := json.MarshalIndent(out, "", "  ")
					if err != nil {
						return err
					}
					if *jsonOut == "-" {
						_, err = std.out.Write(append(b, '\n'))
						return err
					}
					return os.WriteFile(*jsonOut, append(b, '\n'), 0o666)
				}
				return nil
			}
		},
	}
}

func benchKeys() []string {
	var k []string
	for _, r := range benchRows {
		k = append(k, r.key)
	}
	return k
}

// runBench measures the train step in a child process of its own, so that its peak resident memory is the
// step's and not the search's or the embedding's, and everything else in this process.
func runBench(ctx context.Context, std *stdio, o workflow.BenchOptions) (map[string]float64, map[string]string, error) {
	figures := map[string]float64{}
	wantTrain := len(o.Only) == 0
	var rest []string
	for _, k := range o.Only {
		if k == workflow.BenchTrainStep || k == workflow.BenchTrainRSS {
			wantTrain = true
		} else {
			rest = append(rest, k)
		}
	}
	if wantTrain {
		self, err := os.Executable()
		if err != nil {
			return nil, nil, err
		}
		args := []string{"bench", "--child", "--repeat", strconv.Itoa(o.Repeat)}
		if o.Quick {
			args = append(args, "--quick")
		}
		cmd := exec.CommandContext(ctx, self, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, std.err
		fmt.Fprintln(std.err, "bench: train step (child process)…")
		if err := cmd.Run(); err != nil {
			return nil, nil, fmt.Errorf("bench: the train step's process: %w", err)
		}
		if err := json.Unmarshal(out.Bytes(), &figures); err != nil {
			return nil, nil, fmt.Errorf("bench: the train step's process printed %q: %w", out.String(), err)
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			figures[workflow.BenchTrainRSS] = float64(ru.Maxrss) / 1024 // kilobytes on Linux
		}
	}
	shapes := workflow.BenchShapes(o.Quick)
	if len(o.Only) == 0 || len(rest) > 0 {
		o.Only = rest
		if len(o.Only) == 0 {
			o.Only = []string{workflow.BenchEmbed, workflow.BenchStaticStep, workflow.BenchSearch, workflow.BenchModernBERT}
		}
		fmt.Fprintf(std.err, "bench: %s…\n", strings.Join(o.Only, ", "))
		r, err := workflow.Bench(ctx, o)
		if err != nil {
			return nil, nil, err
		}
		for k, v := range r.Figures {
			figures[k] = v
		}
	}
	return figures, shapes, nil
}

// runPeer runs tools/bench_peer.py from the checkout with Debian's python3.
func runPeer(ctx context.Context, o workflow.BenchOptions, threads int) (map[string]float64, error) {
	wd, _ := os.Getwd()
	mod, err := kernel.FindModuleDir(wd)
	if err != nil {
		return nil, fmt.Errorf("bench --peer: %w (run it inside the ragnb checkout, which holds tools/bench_peer.py)", err)
	}
	script := filepath.Join(mod, "tools", "bench_peer.py")
	args := []string{script, "--repeat", strconv.Itoa(o.Repeat), "--threads", strconv.Itoa(threads)}
	if o.Quick {
		args = append(args, "--quick")
	}
	if len(o.Only) > 0 {
		args = append(args, "--only", strings.Join(o.Only, ","))
	}
	out, err := exec.CommandContext(ctx, kernel.DebianPython, args...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return nil, fmt.Errorf("bench --peer: %s %s: %w %s (needs Debian's python3-torch: apt-get install python3-torch libopenblas0-pthread)", kernel.DebianPython, script, err, msg)
	}
	raw := map[string]any{}
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("bench --peer: %s printed %q: %w", script, out, err)
	}
	figures := map[string]float64{}
	for k, v := range raw {
		if f, ok := v.(float64); ok && k != "threads" {
			figures[k] = f
		}
	}
	return figures, nil
}

// printBench writes the table: ragnb's figure, the peer's and the ratio in ragnb's favour (> 1: ragnb is
// faster, or uses less memory).
func printBench(w io.Writer, ours, peer map[string]float64, shapes map[string]string) {
	if b, err := gpu.Shared(); err == nil {
		fmt.Fprintf(w, "backend: %s\n", b.Summary())
	}
	if peer == nil {
		fmt.Fprintf(w, "%-42s %12s\n", "figure", "ragnb")
	} else {
		fmt.Fprintf(w, "%-42s %12s %12s %10s\n", "figure", "ragnb", "pytorch", "ragnb ×")
	}
	for _, r := range benchRows {
		v, ok := ours[r.key]
		if !ok {
			continue
		}
		if peer == nil {
			fmt.Fprintf(w, "%-42s %12.4g\n", r.label, v)
			continue
		}
		p, pok := peer[r.key]
		ratio := "—"
		if pok && v > 0 && p > 0 {
			x := p / v
			if r.higherWins {
				x = v / p
			}
			ratio = fmt.Sprintf("%.2f×", x)
		}
		ps := "—"
		if pok {
			ps = fmt.Sprintf("%.4g", p)
		}
		fmt.Fprintf(w, "%-42s %12.4g %12s %10s\n", r.label, v, ps, ratio)
	}
	if peer != nil {
		fmt.Fprintln(w, "ragnb ×: the peer's time over ragnb's (rates: ragnb's over the peer's); above 1 ragnb is ahead")
	}
	for _, r := range benchRows {
		if _, measured := ours[r.key]; !measured {
			continue
		}
		if s, ok := shapes[r.key]; ok {
			fmt.Fprintf(w, "  %s: %s\n", r.key, s)
		}
	}
}
