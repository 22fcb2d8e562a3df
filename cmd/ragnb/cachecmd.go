package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ragnb/ragnb/cache"
)

func cacheCmd() *command {
	return &command{
		name:    "cache",
		summary: "list (ls) or clear the on-disk step cache that makes notebook cells and exported programs resumable",
		usage: "[flags] ls|clear\n\n" +
			"  ls     one line per stored step result: step, key prefix, size, age, parameters\n" +
			"  clear  remove stored results (all of them, or those selected by --step and --older-than)\n\n" +
			"--programs: the built cell and notebook programs instead (kept so that an unchanged cell is not linked\n" +
			"again; $RAGNB_CELL_CACHE, default ~/.cache/ragnb/cells, the 32 most recently used).\n" +
			"Flags may come before or after the subcommand.",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			dir := fs.String("dir", "", "cache directory (default: $RAGNB_CACHE, else .ragnb in the current directory)")
			asJSON := fs.Bool("json", false, "ls: print the entries as a JSON array (with full keys, params and data directories)")
			step := fs.String("step", "", "clear: only this step's entries (e.g. mine, train-matryoshka)")
			older := fs.String("older-than", "", "clear: only entries created longer ago than this (e.g. 90m, 36h, 7d)")
			programs := fs.Bool("programs", false, "the built cell and notebook programs ($RAGNB_CELL_CACHE) instead of the step cache")
			return func(ctx context.Context, std *stdio, args []string) error {
				if len(args) == 0 {
					return usagef("missing subcommand: ls or clear")
				}
				sub := args[0]
				if err := fs.Parse(args[1:]); err != nil {
					if errors.Is(err, flag.ErrHelp) {
						return nil // the flag set printed the usage
					}
					return usageError{err.Error()}
				}
				if err := noArgs("cache", fs.Args()); err != nil {
					return err
				}
				d := *dir
				if *programs {
					if *step != "" || *asJSON {
						return usagef("--step and --json apply to the step cache, not --programs")
					}
					if d == "" {
						d = cache.ProgramsDir()
					}
					if d == "" {
						return fmt.Errorf("%s=off: no programs are kept", cache.EnvPrograms)
					}
				} else if d == "" {
					d = cache.DefaultDir()
				}
				var before time.Time
				if *older != "" {
					if sub != "clear" {
						return usagef("--older-than applies to clear")
					}
					age, err := parseAge(*older)
					if err != nil {
						return usagef("--older-than: %v", err)
					}
					before = time.Now().Add(-age)
				}
				if *programs {
					switch sub {
					case "ls", "list":
						return programsList(std, d)
					case "clear":
						return programsClear(std, d, before)
					}
					return usagef("unknown subcommand %q (want ls or clear)", sub)
				}
				switch sub {
				case "ls", "list":
					if *step != "" || *older != "" {
						return usagef("--step and --older-than apply to clear")
					}
					return cacheList(std, d, *asJSON)
				case "clear":
					if *asJSON {
						return usagef("--json applies to ls")
					}
					return cacheClear(std, d, cache.ClearOptions{Step: *step, Before: before})
				}
				return usagef("unknown subcommand %q (want ls or clear)", sub)
			}
		},
	}
}

// parseAge accepts Go durations (90m, 36h) and whole days (7d).
func parseAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad age %q", s)
		}
		return time.Duration(n * 24 * float64(time.Hour)), nil
	}
	a, err := time.ParseDuration(s)
	if err != nil || a < 0 {
		return 0, fmt.Errorf("bad age %q (want e.g. 90m, 36h, 7d)", s)
	}
	return a, nil
}

type entryJSON struct {
	cache.Entry
	Dir string `json:"dir"`
}

func cacheList(std *stdio, dir string, asJSON bool) error {
	s, err := cache.Open(dir)
	if err != nil {
		return err
	}
	all, err := s.List()
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]entryJSON, len(all))
		for i, e := range all {
			out[i] = entryJSON{e, e.Dir}
		}
		enc := json.NewEncoder(std.out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(std.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tKEY\tSIZE\tAGE\tTOOK\tPARAMS")
	var total int64
	now := time.Now()
	for _, e := range all {
		total += e.Size
		params := string(e.Params)
		if params == "null" {
			params = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Step, e.Key[:12], humanBytes(e.Size),
			humanAge(now.Sub(e.Created)), humanAge(time.Duration(e.Seconds*float64(time.Second))), clip(params, 70))
	}
	tw.Flush()
	fmt.Fprintf(std.out, "%d %s, %s in %s\n", len(all), entries(len(all)), humanBytes(total), s.Dir())
	answers, err := s.Answers()
	for _, a := range answers {
		fmt.Fprintf(std.out, "%s: %d cached answers, %s in %s\n", a.Name, a.Entries, humanBytes(a.Size), a.Dir)
	}
	return err
}

func cacheClear(std *stdio, dir string, opts cache.ClearOptions) error {
	s, err := cache.Open(dir)
	if err != nil {
		return err
	}
	removed, err := s.Clear(opts)
	var freed int64
	for _, e := range removed {
		freed += e.Size
	}
	fmt.Fprintf(std.out, "removed %d %s (%s) from %s\n", len(removed), entries(len(removed)), humanBytes(freed), s.Dir())
	answers, aerr := s.ClearAnswers(opts)
	for _, a := range answers {
		fmt.Fprintf(std.out, "removed %d cached %s answers (%s) from %s\n", a.Entries, a.Name, humanBytes(a.Size), a.Dir)
	}
	return errors.Join(err, aerr)
}

func programsList(std *stdio, dir string) error {
	list, err := cache.ListPrograms(dir)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(std.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROGRAM\tSIZE\tUSED")
	var total int64
	now := time.Now()
	for _, p := range list {
		total += p.Size
		fmt.Fprintf(tw, "%s\t%s\t%s ago\n", p.Name, humanBytes(p.Size), humanAge(now.Sub(p.Used)))
	}
	tw.Flush()
	fmt.Fprintf(std.out, "%d %s, %s in %s\n", len(list), programWord(len(list)), humanBytes(total), dir)
	return nil
}

func programsClear(std *stdio, dir string, before time.Time) error {
	removed, err := cache.ClearPrograms(dir, before)
	var freed int64
	for _, p := range removed {
		freed += p.Size
	}
	fmt.Fprintf(std.out, "removed %d %s (%s) from %s\n", len(removed), programWord(len(removed)), humanBytes(freed), dir)
	return err
}

func programWord(n int) string {
	if n == 1 {
		return "program"
	}
	return "programs"
}

func entries(n int) string {
	if n == 1 {
		return "entry"
	}
	return "entries"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func humanAge(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.0fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%.0fm", d.Minutes())
	case d < 48*time.Hour:
		return fmt.Sprintf("%.0fh", d.Hours())
	}
	return fmt.Sprintf("%.0fd", d.Hours()/24)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
