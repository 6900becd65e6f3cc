package policy_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/policy"
)

// writeGenerated writes n agreements over 50 forces, 200 trusts and 250
// ICBs, ten to a file, so that each force controls n/50 agreements and each
// ICB receives under n/250 of them.
func writeGenerated(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	var sb strings.Builder
	for i := range n {
		if i%10 == 0 {
			sb.WriteString("agreements:\n")
		}
		fmt.Fprintf(&sb, `  - id: agreement-%04d
    title: Generated agreement %d
    version: "1"
    controllers: [force/force-%02d, trust/T%03d]
    datasets: [incidents, health_updates]
    valid_from: 2024-04-01
    valid_until: 2027-03-31
    retention: 24 months
    recipients:
      - id: icb_%04d
        org: icb/Q%03d
        role: commissioner
        purpose: Commission services.
        scope: {lads: [E09000001, E09000002]}
        granularity: aggregate
        measures: [all]
        export: true
      - id: analysts_%04d
        org: force/force-%02d
        role: force_analyst
        purpose: Analyse.
        scope: {forces: [force-%02d]}
        granularity: aggregate
        measures: [s136_detentions, detention_rate]
`, i, i, i%50, i%200, i, i%250, i, i%50, i%50)
		if i%10 == 9 || i == n-1 {
			writeFile(b, filepath.Join(dir, fmt.Sprintf("set-%04d.yaml", i/10)), sb.String())
			sb.Reset()
		}
	}
	return dir
}

func BenchmarkDecide(b *testing.B) {
	sets := []struct {
		name   string
		dir    func(*testing.B) string
		submit policy.Input
		read   policy.Input
	}{
		{
			name:   "london",
			dir:    func(*testing.B) string { return londonDir },
			submit: policy.Input{Action: policy.ActionSubmit, Org: "trust/RV3", Dataset: policy.DatasetHealthUpdates, Force: "metropolitan", PosOrg: "RV3"},
			read:   policy.Input{Action: policy.ActionRead, Org: "force/btp"},
		},
		{
			name:   "generated-1000",
			dir:    func(b *testing.B) string { return writeGenerated(b, 1000) },
			submit: policy.Input{Action: policy.ActionSubmit, Org: "trust/T007", Dataset: policy.DatasetHealthUpdates, Force: "force-07", PosOrg: "T007"},
			read:   policy.Input{Action: policy.ActionRead, Org: "icb/Q007"},
		},
	}
	for _, set := range sets {
		dir := set.dir(b)
		// remembered: the engine as the hub runs it, where a repeated
		// question is answered from the memo; evaluated: every decision
		// evaluated afresh.
		for _, mode := range []string{"remembered", "evaluated"} {
			e, err := policy.New(b.Context(), policy.Options{Measures: measures.IDs(), Dir: dir, Now: func() time.Time { return inForce }, NoMemo: mode == "evaluated"})
			if err != nil {
				b.Fatal(err)
			}
			if n := len(e.Agreements()); set.name != "london" && n != 1000 {
				b.Fatalf("%d agreements loaded", n)
			}
			for _, in := range []policy.Input{set.submit, set.read} {
				b.Run(set.name+"/"+string(in.Action)+"/"+mode, func(b *testing.B) {
					d, err := e.Decide(b.Context(), in)
					if err != nil || !d.Allow {
						b.Fatalf("%+v, %v", d, err)
					}
					b.ReportAllocs()
					for b.Loop() {
						if _, err := e.Decide(b.Context(), in); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
