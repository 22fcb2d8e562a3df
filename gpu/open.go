package gpu

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
)

// Backend is an opened backend with the decision that led to it.
type Backend struct {
	compute.Backend
	Choice Choice
	// FellBack is set when an auto-detected plugin failed to open and the pure-Go backend was used instead;
	// it holds that failure.
	FellBack error
}

// Summary is the one line shown in the notebook and by `ragnb doctor`.
func (b *Backend) Summary() string {
	s := b.Backend.Description()
	if b.FellBack != nil {
		s += fmt.Sprintf(" (CUDA plugin failed: %v)", b.FellBack)
	}
	return s
}

// Open opens the chosen backend. A requested backend that cannot start is an error naming the plugin; an
// auto-detected plugin that cannot start falls back to the pure-Go backend and records why.
func Open(c Choice) (*Backend, error) {
	switch c.Kind {
	case KindGo:
		b, err := openGo(c.Options)
		if err != nil {
			return nil, fmt.Errorf("open Go backend (%s): %w", c.Options, err)
		}
		return &Backend{Backend: b, Choice: c}, nil
	case KindXLA:
		b, err := openXLA(c.Plugin, c.Options)
		if err == nil {
			return &Backend{Backend: b, Choice: c}, nil
		}
		err = fmt.Errorf("open XLA with PJRT plugin %s: %w", c.Plugin, err)
		if c.Requested {
			return nil, err
		}
		fallback := Choice{Kind: KindGo, Options: goConfig, Searched: c.Searched,
			Reason: "the CUDA PJRT plugin found at " + c.Plugin + " failed to start; using the pure-Go backend"}
		gb, gerr := openGo(goConfig)
		if gerr != nil {
			return nil, fmt.Errorf("%v; and the Go backend fallback failed: %w", err, gerr)
		}
		return &Backend{Backend: gb, Choice: fallback, FellBack: err}, nil
	default:
		return nil, fmt.Errorf("unknown backend kind %q", c.Kind)
	}
}

// Select is Choose(SystemEnv()) followed by Open.
func Select() (*Backend, error) {
	c, err := Choose(SystemEnv())
	if err != nil {
		return nil, err
	}
	return Open(c)
}

// Shared returns the process's backend, chosen and opened on first use. A backend holds device memory and
// compiled programs, so one process opens one, like it would open one GPU; this is the project's only
// process-wide value, and it never changes after the first call.
var Shared = sync.OnceValues(Select)

// openGo opens the pure-Go backend. The "parallelism=N" option is applied by us rather than passed on, because
// gobackend prints a line to stdout when it parses it, which would corrupt CLI output and notebook cells.
func openGo(options string) (compute.Backend, error) {
	var rest []string
	parallelism, hasParallelism := 0, false
	for _, opt := range strings.Split(options, ",") {
		if v, ok := strings.CutPrefix(opt, "parallelism="); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("parallelism=%q: want an integer", v)
			}
			parallelism, hasParallelism = n, true
			continue
		}
		if opt != "" {
			rest = append(rest, opt)
		}
	}
	b, err := gobackend.New(strings.Join(rest, ","))
	if err != nil {
		return nil, err
	}
	if hasParallelism {
		if err := setGoParallelism(b, parallelism); err != nil {
			b.Finalize()
			return nil, err
		}
	}
	return b, nil
}

// setGoParallelism calls Workers.SetMaxParallelism on gobackend's backend value. The type lives in an internal
// package, so it is reached by reflection; the pinned compute version is tested to keep this shape.
func setGoParallelism(b compute.Backend, n int) error {
	v := reflect.ValueOf(b)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return fmt.Errorf("set parallelism: unexpected Go backend type %T", b)
	}
	workers := v.FieldByName("Workers")
	if !workers.IsValid() {
		return fmt.Errorf("set parallelism: Go backend %T has no Workers pool", b)
	}
	set := workers.MethodByName("SetMaxParallelism")
	if !set.IsValid() {
		return fmt.Errorf("set parallelism: Go backend workers pool %s has no SetMaxParallelism", workers.Type())
	}
	set.Call([]reflect.Value{reflect.ValueOf(n)})
	return nil
}

// SetTF32 turns TF32 float32 matrix products on or off on an XLA CUDA backend and returns the function that
// restores the previous setting. It acts on programs compiled from then on, process-wide, as
// torch.backends.cuda.matmul.allow_tf32 does; the trainer sets it for the length of a run (train.Config.TF32).
// Any other backend has no TF32, which is an error naming it. b is the compute.Backend inside a Backend.
func SetTF32(b compute.Backend, on bool) (restore func(), err error) {
	if gb, ok := b.(*Backend); ok {
		b = gb.Backend
	}
	return setTF32(b, on)
}
