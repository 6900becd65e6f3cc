package benchmark

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	"github.com/pathwayhub/pathwayhub/ingest/validate"
	"github.com/pathwayhub/pathwayhub/policy"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// Names of the per-record costs in the report.
const (
	costValidate  = "validate an incident (field rules and pathway rules)"
	costTokenise  = "tokenise an identifier (HMAC-SHA256)"
	costMarshal   = "encode an incident (protobuf, deterministic: the payload column)"
	costUnmarshal = "decode an incident (protobuf, as the handler receives it)"
	costDecision  = "policy decision as the hub makes it (submit, without the audit insert; a repeated question is answered from the engine's memo)"
	costEvaluate  = "policy decision evaluated afresh (submit, without the audit insert; the memo off: the first of each question and day)"
)

func runCosts(ctx context.Context, e *env) error {
	pool, err := basePool(e.cfg.CostRecords)
	if err != nil {
		return err
	}
	valid, err := validate.New(validate.Options{})
	if err != nil {
		return err
	}
	key, err := pseudo.NewKey([]byte("pathway-hub-benchmark-key-32byte"))
	if err != nil {
		return err
	}
	wire := make([][]byte, len(pool))
	for i, r := range pool {
		w, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
		if err != nil {
			return err
		}
		wire[i] = w
	}
	engine, err := policy.New(ctx, policy.Options{Measures: measures.IDs(), Dir: filepath.Join(e.cfg.Dir, "agreements"), Logger: e.cfg.Logger})
	if err != nil {
		return err
	}
	evaluator, err := policy.New(ctx, policy.Options{Measures: measures.IDs(), Dir: filepath.Join(e.cfg.Dir, "agreements"), Logger: e.cfg.Logger, NoMemo: true})
	if err != nil {
		return err
	}
	in := policy.Input{Action: policy.ActionSubmit, Org: "force/metropolitan", Dataset: policy.DatasetIncidents, Force: "metropolitan", Time: time.Now()}
	for _, eng := range []*policy.Engine{engine, evaluator} {
		if d, err := eng.Decide(ctx, in); err != nil || !d.Allow {
			return fmt.Errorf("policy decision: allow=%v reasons=%v err=%w", d.Allow, d.Reasons, err)
		}
	}
	cases := []struct {
		name, unit string
		op         func(i int) error
	}{
		{costValidate, "record", func(i int) error {
			if r := valid.Incident(pool[i%len(pool)]); !r.OK() {
				return fmt.Errorf("record %d invalid: %s", i%len(pool), r.Errors[0].GetCode())
			}
			return nil
		}},
		{costTokenise, "identifier", func(i int) error {
			_, err := key.SubjectToken(fmt.Sprint("P", i))
			return err
		}},
		{costMarshal, "record", func(i int) error {
			_, err := proto.MarshalOptions{Deterministic: true}.Marshal(pool[i%len(pool)])
			return err
		}},
		{costUnmarshal, "record", func(i int) error {
			return proto.Unmarshal(wire[i%len(wire)], &pathwayv1.IncidentRecord{})
		}},
		{costDecision, "decision", func(int) error {
			_, err := engine.Decide(ctx, in)
			return err
		}},
		{costEvaluate, "decision", func(int) error {
			_, err := evaluator.Decide(ctx, in)
			return err
		}},
	}
	for _, c := range cases {
		cost, err := measure(e.cfg.CostTime, c.op)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		cost.Name, cost.Unit = c.name, c.unit
		e.report.Costs = append(e.report.Costs, cost)
	}
	return nil
}

// measure runs op for about d (after a short warm-up) and returns its mean
// time and allocations per call, as a Go benchmark with -benchmem would.
func measure(d time.Duration, op func(i int) error) (Cost, error) {
	for i := range 100 {
		if err := op(i); err != nil {
			return Cost{}, err
		}
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	n := 0
	for ; n < 100 || time.Since(start) < d; n++ {
		if err := op(n); err != nil {
			return Cost{}, err
		}
	}
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return Cost{
		NsPerOp:     float64(took.Nanoseconds()) / float64(n),
		BytesPerOp:  float64(after.TotalAlloc-before.TotalAlloc) / float64(n),
		AllocsPerOp: float64(after.Mallocs-before.Mallocs) / float64(n),
	}, nil
}
