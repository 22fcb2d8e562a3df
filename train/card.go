package train

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ragnb/ragnb/model/modelcard"
	"github.com/ragnb/ragnb/train/losses"
)

// The card is built here, where the model, the data, the configuration and the run meet, and handed to the
// model (SetModelCard), so that every Save after a training — the CLI's, the notebook's, a checkpoint's —
// writes it as README.md.

// buildCard assembles the card of a finished run.
func buildCard(kind string, model modelcard.Model, base string, ex *Examples, cfg Config, res *Result) modelcard.Card {
	c := modelcard.Card{Kind: kind, Model: model, Meta: cfg.CardMeta, Versions: versions()}
	if c.Meta.BaseModel == "" {
		c.Meta.BaseModel = base
	}
	if kind == modelcard.BiEncoder && len(cfg.MatryoshkaDims) > 0 {
		dims := slices.Clone(cfg.MatryoshkaDims)
		slices.SortFunc(dims, func(a, b int) int { return b - a })
		c.Model.MatryoshkaDims = dims
	}
	if m := savedMetrics(cfg, res); len(m) > 0 {
		c.Evaluation = &modelcard.Evaluation{Split: cfg.EvalName, Metrics: m}
	}
	t := &modelcard.Training{Rows: ex.Rows(), Columns: slices.Clone(ex.Names)}
	cols := ex.Columns
	if ex.Labels != nil {
		t.Columns = append(t.Columns, "label")
	}
	for r := 0; r < min(3, ex.Rows()); r++ {
		var s []string
		for _, col := range cols {
			s = append(s, col[r])
		}
		if ex.Labels != nil {
			s = append(s, strconv.FormatFloat(ex.Labels[r], 'g', 4, 64))
		}
		t.Samples = append(t.Samples, s)
	}
	if ex.Labels == nil {
		for _, col := range cols {
			t.Lengths = append(t.Lengths, lengths(col))
		}
	}
	t.Loss, t.LossParams = lossCard(cfg)
	t.Hyperparameters = nonDefault(cfg)
	if res != nil {
		t.Steps, t.Epochs, t.Seconds = res.Steps, res.Epochs, res.Elapsed.Seconds()
		if res.History != nil {
			t.Log = logRows(res.History)
		}
	}
	c.Training = t
	return c
}

// savedMetrics are the evaluation of the weights the model ends with: the best evaluation's when the run keeps
// the best weights, else the last one's.
func savedMetrics(cfg Config, res *Result) map[string]float64 {
	if res == nil {
		return nil
	}
	if cfg.BestMetric != "" && !cfg.KeepLast && !math.IsNaN(res.BestValue) && res.History != nil {
		for _, r := range res.History.Evals() {
			if r.Step == res.BestStep {
				return r.Eval
			}
		}
	}
	return res.Final
}

func lengths(col []string) [3]float64 {
	if len(col) == 0 {
		return [3]float64{}
	}
	lo, hi, sum := math.Inf(1), 0.0, 0.0
	for _, s := range col {
		n := float64(utf8.RuneCountInString(s))
		lo, hi, sum = min(lo, n), max(hi, n), sum+n
	}
	return [3]float64{lo, sum / float64(len(col)), hi}
}

// lossCard names the loss as sentence-transformers does and lists its parameters (JSON values).
func lossCard(cfg Config) (string, [][2]string) {
	var name string
	var params [][2]string
	switch cfg.Loss {
	case LossMNRL, LossCachedMNRL:
		name = "MultipleNegativesRankingLoss"
		params = [][2]string{{"scale", num(cfg.Scale)}, {"similarity_fct", `"cos_sim"`}}
		if cfg.Loss == LossCachedMNRL {
			name = "CachedMultipleNegativesRankingLoss"
			params = append(params, [2]string{"mini_batch_size", strconv.Itoa(cfg.MiniBatchSize)})
		}
	case LossTriplet:
		name = "TripletLoss"
		params = [][2]string{{"distance_metric", strconv.Quote("TripletDistanceMetric." + strings.ToUpper(cfg.TripletMetric))},
			{"triplet_margin", num(cfg.TripletMargin)}}
	case LossBCE:
		name = "BinaryCrossEntropyLoss"
		pw := "null"
		if cfg.PosWeight != 0 {
			pw = num(cfg.PosWeight)
		}
		params = [][2]string{{"activation_fn", `"torch.nn.modules.linear.Identity"`}, {"pos_weight", pw}}
	case LossMSE:
		name = "MSELoss"
		act := `"torch.nn.modules.activation.Sigmoid"`
		if cfg.MSEActivation == losses.ActivationIdentity {
			act = `"torch.nn.modules.linear.Identity"`
		}
		params = [][2]string{{"activation_fn", act}}
	default:
		return cfg.Loss, nil
	}
	if len(cfg.MatryoshkaDims) == 0 {
		return name, params
	}
	weights := cfg.MatryoshkaWeights
	if weights == nil {
		weights = make([]float64, len(cfg.MatryoshkaDims))
		for i := range weights {
			weights[i] = 1
		}
	}
	ws := make([]string, len(weights))
	for i, w := range weights {
		ws[i] = num(w)
	}
	ds := make([]string, len(cfg.MatryoshkaDims))
	for i, d := range cfg.MatryoshkaDims {
		ds[i] = strconv.Itoa(d)
	}
	return "MatryoshkaLoss(" + name + ")", append([][2]string{{"loss", strconv.Quote(name)},
		{"matryoshka_dims", "[" + strings.Join(ds, ", ") + "]"}, {"matryoshka_weights", "[" + strings.Join(ws, ", ") + "]"},
		{"n_dims_per_step", "-1"}}, params...)
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// nonDefault lists the hyperparameters of the run (defaults applied) that differ from transformers'
// TrainingArguments defaults, under TrainingArguments' names — the list sentence-transformers' cards show.
func nonDefault(cfg Config) [][2]string {
	maxSteps := cfg.MaxSteps
	if maxSteps == 0 {
		maxSteps = -1
	}
	greater := cfg.BestMetric == "" || !cfg.LowerIsBetter
	sampler := "batch_sampler"
	if cfg.Sampler == SamplerNoDuplicates {
		sampler = "no_duplicates"
	}
	rows := []struct {
		name      string
		value, hf any
	}{
		{"num_train_epochs", cfg.Epochs, 3},
		{"max_steps", maxSteps, -1},
		{"per_device_train_batch_size", cfg.BatchSize, 8},
		{"gradient_accumulation_steps", cfg.GradAccum, 1},
		{"learning_rate", cfg.LearningRate, 5e-5},
		{"weight_decay", cfg.WeightDecay, 0.0},
		{"adam_beta1", cfg.Beta1, 0.9},
		{"adam_beta2", cfg.Beta2, 0.999},
		{"adam_epsilon", cfg.Epsilon, 1e-8},
		{"max_grad_norm", cfg.MaxGradNorm, 1.0},
		{"bf16", cfg.BF16, false},
		{"tf32", cfg.TF32, false},
		{"lr_scheduler_type", cfg.Schedule, "linear"},
		{"warmup_ratio", cfg.WarmupRatio, 0.0},
		{"seed", cfg.Seed, uint64(42)},
		{"dataloader_drop_last", cfg.DropLast, false},
		{"batch_sampler", sampler, "batch_sampler"},
		{"metric_for_best_model", cfg.BestMetric, ""},
		{"greater_is_better", greater, true},
		{"load_best_model_at_end", cfg.BestMetric != "" && !cfg.KeepLast, false},
	}
	var out [][2]string
	for _, r := range rows {
		if fmt.Sprint(r.value) != fmt.Sprint(r.hf) {
			out = append(out, [2]string{r.name, fmt.Sprint(r.value)})
		}
	}
	return out
}

// maxLogRows bounds the training log in the card: every evaluation, and training steps evenly spaced.
const maxLogRows = 40

func logRows(h *History) []modelcard.LogRow {
	n := len(h.Records)
	every := max(1, (n+maxLogRows-1)/maxLogRows)
	var out []modelcard.LogRow
	for i, r := range h.Records {
		if r.Eval == nil && i%every != 0 && i != n-1 {
			continue
		}
		out = append(out, modelcard.LogRow{Epoch: r.Epoch, Step: r.Step, Loss: r.Loss, Eval: r.Eval})
	}
	return out
}

// versions are the frameworks this binary was built with: ragnb, Go, GoMLX.
func versions() [][2]string {
	v := [][2]string{{"ragnb", "(devel)"}, {"Go", runtime.Version()}}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v[0][1] = bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/gomlx/gomlx" {
			v = append(v, [2]string{"GoMLX", d.Version})
		}
	}
	return v
}
