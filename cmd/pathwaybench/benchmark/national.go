package benchmark

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/measures/annual"
	"github.com/pathwayhub/pathwayhub/hub/publish/share"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	"github.com/pathwayhub/pathwayhub/ingest/simulate"
	"github.com/pathwayhub/pathwayhub/policy"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// nationalDatabase is the raw database of the national-scale load.
const nationalDatabase = "bench_national"

// force is one force of the national profile: its data.police.uk id, the
// population it polices in millions (approximate), its ONS region, one local
// authority in its area, and the simulator profile whose pattern it borrows.
type force struct {
	id     string
	pop    float64
	region string
	lad    string
	base   string
}

// nationalForces lists the 43 territorial forces of England and Wales and
// BTP. Volumes are shared out by population; BTP counts as one million.
var nationalForces = []force{
	{"metropolitan", 8.8, "E12000007", "E09000033", "metropolitan"},
	{"btp", 1.0, "E12000007", "E09000033", "btp"},
	{"city-of-london", 0.01, "E12000007", "E09000001", "city-of-london"},
	{"cleveland", 0.57, "E12000001", "E06000002", "metropolitan"},
	{"durham", 0.87, "E12000001", "E06000047", "metropolitan"},
	{"northumbria", 1.5, "E12000001", "E08000021", "metropolitan"},
	{"cheshire", 1.1, "E12000002", "E06000050", "metropolitan"},
	{"cumbria", 0.5, "E12000002", "E06000063", "metropolitan"},
	{"greater-manchester", 2.9, "E12000002", "E08000003", "metropolitan"},
	{"lancashire", 1.5, "E12000002", "E07000123", "metropolitan"},
	{"merseyside", 1.4, "E12000002", "E08000012", "metropolitan"},
	{"humberside", 0.93, "E12000003", "E06000010", "metropolitan"},
	{"north-yorkshire", 0.83, "E12000003", "E06000014", "metropolitan"},
	{"south-yorkshire", 1.4, "E12000003", "E08000019", "metropolitan"},
	{"west-yorkshire", 2.3, "E12000003", "E08000035", "metropolitan"},
	{"derbyshire", 1.05, "E12000004", "E06000015", "metropolitan"},
	{"leicestershire", 1.1, "E12000004", "E06000016", "metropolitan"},
	{"lincolnshire", 0.77, "E12000004", "E07000138", "metropolitan"},
	{"northamptonshire", 0.79, "E12000004", "E06000061", "metropolitan"},
	{"nottinghamshire", 1.17, "E12000004", "E06000018", "metropolitan"},
	{"staffordshire", 1.13, "E12000005", "E06000021", "metropolitan"},
	{"warwickshire", 0.6, "E12000005", "E07000222", "metropolitan"},
	{"west-mercia", 1.3, "E12000005", "E06000019", "metropolitan"},
	{"west-midlands", 2.9, "E12000005", "E08000025", "metropolitan"},
	{"bedfordshire", 0.69, "E12000006", "E06000055", "metropolitan"},
	{"cambridgeshire", 0.89, "E12000006", "E07000008", "metropolitan"},
	{"essex", 1.85, "E12000006", "E07000070", "metropolitan"},
	{"hertfordshire", 1.2, "E12000006", "E07000241", "metropolitan"},
	{"norfolk", 0.92, "E12000006", "E07000148", "metropolitan"},
	{"suffolk", 0.76, "E12000006", "E07000202", "metropolitan"},
	{"hampshire", 2.0, "E12000008", "E06000045", "metropolitan"},
	{"kent", 1.9, "E12000008", "E07000110", "metropolitan"},
	{"surrey", 1.2, "E12000008", "E07000209", "metropolitan"},
	{"sussex", 1.7, "E12000008", "E06000043", "metropolitan"},
	{"thames-valley", 2.4, "E12000008", "E06000038", "metropolitan"},
	{"avon-and-somerset", 1.7, "E12000009", "E06000023", "metropolitan"},
	{"devon-and-cornwall", 1.8, "E12000009", "E06000026", "metropolitan"},
	{"dorset", 0.78, "E12000009", "E06000058", "metropolitan"},
	{"gloucestershire", 0.65, "E12000009", "E07000081", "metropolitan"},
	{"wiltshire", 0.73, "E12000009", "E06000054", "metropolitan"},
	{"dyfed-powys", 0.52, "W92000004", "W06000010", "metropolitan"},
	{"gwent", 0.6, "W92000004", "W06000022", "metropolitan"},
	{"north-wales", 0.7, "W92000004", "W06000003", "metropolitan"},
	{"south-wales", 1.3, "W92000004", "W06000015", "metropolitan"},
}

// regionSlugs names each region's lead, e.g. region/north-east.
var regionSlugs = map[string]string{
	"E12000001": "north-east", "E12000002": "north-west", "E12000003": "yorkshire", "E12000004": "east-midlands",
	"E12000005": "west-midlands", "E12000006": "east", "E12000007": "london", "E12000008": "south-east",
	"E12000009": "south-west", "W92000004": "wales",
}

// NationalShape documents how the national data is made.
const NationalShape = "43 territorial forces of England and Wales plus BTP (data.police.uk ids). Each force's history is " +
	"the simulator's (ingest/simulate) for a base profile — metropolitan for territorial forces, btp and city-of-london for " +
	"themselves — generated in six-month chunks with a seed per force and chunk, scaled so that volumes follow each force's " +
	"approximate population, and relabelled with the force's id, ONS region and one local authority of its area " +
	"(places of safety keep the base profile's ODS codes)."

// writeAgreements writes the benchmark's national agreement into
// dir/agreements: every force a controller of incidents, one regional lead
// per region (aggregate, all measures) and BTP's national analysts. It also
// writes dir/ingest-agreements for the hub under the ingest measurement: the
// same controllers and one recipient whose share holds none of the ingested
// forces, so that the hub's own publications (which follow stored batches)
// cost next to nothing and do not blur the ingest numbers; publication is
// measured on its own at national scale.
func writeAgreements(dir string) error {
	if err := writeAgreement(dir, "agreements", true); err != nil {
		return err
	}
	return writeAgreement(dir, "ingest-agreements", false)
}

func writeAgreement(dir, sub string, national bool) error {
	var b strings.Builder
	b.WriteString("# National agreement for the benchmark (cmd/pathwaybench/benchmark).\nagreements:\n  - id: national-bench\n")
	b.WriteString("    title: National benchmark data sharing\n    version: \"1\"\n    controllers:\n")
	for _, f := range nationalForces {
		fmt.Fprintf(&b, "      - force/%s\n", f.id)
	}
	b.WriteString("    datasets: [incidents]\n    valid_from: 2015-01-01\n    valid_until: 2036-12-31\n    retention: 120 months\n    recipients:\n")
	if !national {
		last := nationalForces[len(nationalForces)-1].id
		b.WriteString("      - id: idle_analysts\n        org: force/" + last + "\n        role: force_analyst\n")
		b.WriteString("        purpose: Idle recipient of the ingest benchmark.\n        scope:\n          forces: [" + last + "]\n")
		b.WriteString("        granularity: aggregate\n        measures: [s136_detentions]\n")
		return writeFile(filepath.Join(dir, sub), "national.yaml", b.String())
	}
	for _, code := range sortedRegionCodes() {
		slug := regionSlugs[code]
		fmt.Fprintf(&b, "      - id: %s_regional_lead\n        org: region/%s\n        role: regional_lead\n", strings.ReplaceAll(slug, "-", "_"), slug)
		b.WriteString("        purpose: Compare the region's forces.\n        scope:\n")
		if strings.HasPrefix(code, "E12") {
			fmt.Fprintf(&b, "          regions: [%s]\n", code)
		} else { // Wales is a nation, not an ONS region: scope by its forces
			fmt.Fprintf(&b, "          forces: [%s]\n", strings.Join(forcesOf(code), ", "))
		}
		b.WriteString("        granularity: aggregate\n        measures: [all]\n")
	}
	b.WriteString("      - id: btp_national_analysts\n        org: force/btp\n        role: force_analyst\n")
	b.WriteString("        purpose: Analyse BTP's detentions nationally.\n        scope:\n          forces: [btp]\n")
	b.WriteString("        granularity: aggregate\n        measures: [all]\n")
	return writeFile(filepath.Join(dir, sub), "national.yaml", b.String())
}

func writeFile(dir, name, content string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("agreements: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		return fmt.Errorf("agreements: %w", err)
	}
	return nil
}

func sortedRegionCodes() []string {
	var out []string
	for _, f := range nationalForces {
		if !containsString(out, f.region) {
			out = append(out, f.region)
		}
	}
	return out
}

func forcesOf(region string) []string {
	var out []string
	for _, f := range nationalForces {
		if f.region == region {
			out = append(out, f.id)
		}
	}
	return out
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func runNational(ctx context.Context, e *env) error {
	if e.cfg.NationalIncidents < 0 {
		e.progress("national scale skipped")
		return nil
	}
	conn, err := e.migrated(ctx, nationalDatabase)
	if err != nil {
		return err
	}
	defer conn.Close()
	n := &National{Forces: len(nationalForces), Years: e.cfg.Years, Shape: NationalShape}
	e.report.National = n
	var loaded uint64
	if e.cfg.ReuseNational {
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+nationalDatabase+".incidents").Scan(&loaded); err != nil {
			return err
		}
	}
	if loaded > 0 {
		n.Incidents, n.Reused = int64(loaded), true
		e.progress("reusing the %d incidents an earlier run loaded", loaded)
	} else if err := e.loadNational(ctx, store.New(conn, nationalDatabase), n); err != nil {
		return err
	}
	engine, err := policy.New(ctx, policy.Options{Measures: measures.IDs(), Dir: filepath.Join(e.cfg.Dir, "agreements"), Logger: e.cfg.Logger})
	if err != nil {
		return err
	}
	passwords := filepath.Join(e.cfg.Dir, "share-passwords.yaml")
	pub, err := share.New(share.Options{
		Conn: conn, Database: nationalDatabase, Policy: engine, Logger: e.cfg.Logger, Thresholds: measures.DefaultThresholds(),
		UsersFile: filepath.Join(e.srv.UsersDir(), "bench-shares.xml"), PasswordsFile: passwords,
	})
	if err != nil {
		return err
	}
	n.Agreements = "the benchmark's national agreement: one regional lead per region (10) and BTP's national analysts, aggregate, all measures"
	e.progress("publishing every share")
	start := time.Now()
	rep, err := pub.PublishAll(ctx)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	n.PublishSeconds = time.Since(start).Seconds()
	n.SnapshotSeconds = rep.Snapshot.Seconds()
	n.Recipients = len(rep.Published)
	e.progress("published %d shares in %.1f s", n.Recipients, n.PublishSeconds)
	if n.DiskBytes, err = e.diskBytes(ctx, ""); err != nil {
		return err
	}
	if n.RawDiskBytes, err = e.diskBytes(ctx, nationalDatabase); err != nil {
		return err
	}
	if n.Return, err = annualReturn(ctx, store.New(conn, nationalDatabase), "metropolitan", 3); err != nil {
		return err
	}
	e.progress("the Met's annual return %s: %d detentions in %.2f s (median of %d)", n.Return.Year, n.Return.Detentions, n.Return.Seconds, n.Return.Runs)
	return e.panels(ctx, n, filepath.Join(e.cfg.Dir, "agreements"), passwords)
}

// annualReturn times force's Home Office return for the last financial
// year that ended, runs times.
func annualReturn(ctx context.Context, st *store.Store, force string, runs int) (*ReturnResult, error) {
	year := annual.LastEnded(time.Now())
	out := &ReturnResult{Force: force, Year: year.String(), Runs: runs}
	var took []float64
	for range runs {
		t0 := time.Now()
		_, ret, err := st.AnnualReturn(ctx, force, year)
		if err != nil {
			return nil, fmt.Errorf("annual return: %w", err)
		}
		took = append(took, time.Since(t0).Seconds())
		out.Detentions = ret.Detentions
	}
	slices.Sort(took)
	out.Seconds, out.MaxSeconds = took[len(took)/2], took[len(took)-1]
	return out, nil
}

// chunk is one slice of generated history for one force.
type chunk struct {
	recs []*pathwayv1.IncidentRecord
}

// loadNational generates and inserts the national history.
func (e *env) loadNational(ctx context.Context, st *store.Store, n *National) error {
	key, err := pseudo.NewKey([]byte("pathway-hub-benchmark-key-32byte"))
	if err != nil {
		return err
	}
	end := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	perYear, err := baseVolumes(key, end)
	if err != nil {
		return err
	}
	total := 0.0
	for _, f := range nationalForces {
		total += f.pop
	}
	const chunkMonths = 6
	chunks := e.cfg.Years * 12 / chunkMonths
	e.progress("loading about %d incidents: %d forces × %d years", e.cfg.NationalIncidents, len(nationalForces), e.cfg.Years)
	start := time.Now()
	work := make(chan chunk, 2)
	var genNanos, inserted atomic.Int64
	var insertNanos atomic.Int64
	genErr := make(chan error, 1)
	go func() {
		defer close(work)
		for _, f := range nationalForces {
			want := float64(e.cfg.NationalIncidents) * f.pop / total / float64(e.cfg.Years)
			scale := want / perYear[f.base]
			for c := range chunks {
				t := time.Now()
				h, err := simulate.History(simulate.Options{
					Force: f.base, Months: chunkMonths, End: end.AddDate(0, -chunkMonths*c, 0),
					Seed: seedOf(f.id, c), Scale: scale, Key: key,
				})
				if err != nil {
					genErr <- err
					return
				}
				for _, r := range h.Incidents {
					r.ForceId, r.RegionCode, r.LadCode = f.id, f.region, f.lad
				}
				genNanos.Add(int64(time.Since(t)))
				select {
				case work <- chunk{recs: h.Incidents}:
				case <-ctx.Done():
					return
				}
			}
		}
		genErr <- nil
	}()
	var wg sync.WaitGroup
	var insErr error
	var once sync.Once
	for range 2 {
		wg.Go(func() {
			for c := range work {
				t := time.Now()
				if err := insertChunked(ctx, st, c.recs); err != nil {
					once.Do(func() { insErr = err })
					continue
				}
				insertNanos.Add(int64(time.Since(t)))
				if done := inserted.Add(int64(len(c.recs))); done/1_000_000 != (done-int64(len(c.recs)))/1_000_000 {
					e.progress("loaded %d incidents", done)
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(<-genErr, insErr); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	n.LoadSeconds = time.Since(start).Seconds()
	n.GenerateSecond = time.Duration(genNanos.Load()).Seconds()
	n.Incidents = inserted.Load()
	// Two workers insert at once: rows over the mean worker's insert time.
	if s := time.Duration(insertNanos.Load()).Seconds() / 2; s > 0 {
		n.InsertRowsPerSecond = float64(n.Incidents) / s
	}
	e.progress("loaded %d incidents in %.1f s", n.Incidents, n.LoadSeconds)
	return nil
}

// insertChunked inserts records in batches of at most 100,000 rows.
func insertChunked(ctx context.Context, st *store.Store, recs []*pathwayv1.IncidentRecord) error {
	const batch = 100_000
	received := time.Now().UTC().Truncate(time.Second)
	for i := 0; i < len(recs); i += batch {
		part := recs[i:min(i+batch, len(recs))]
		rows := make([]store.Incident, len(part))
		for j, r := range part {
			rows[j] = store.Incident{Record: r}
		}
		if err := st.WriteIncidents(ctx, "national", received, rows); err != nil {
			return err
		}
	}
	return nil
}

// baseVolumes returns the incidents per year of each base profile at scale
// 1, from one simulated year.
func baseVolumes(key pseudo.Key, end time.Time) (map[string]float64, error) {
	out := map[string]float64{}
	for _, f := range nationalForces {
		if _, ok := out[f.base]; ok {
			continue
		}
		h, err := simulate.History(simulate.Options{Force: f.base, Months: 12, End: end, Seed: 1, Key: key})
		if err != nil {
			return nil, err
		}
		out[f.base] = max(float64(len(h.Incidents)), 1)
	}
	return out, nil
}

func seedOf(id string, c int) uint64 {
	h := fnv.New64a()
	_, _ = fmt.Fprintf(h, "%s/%d", id, c)
	return h.Sum64()
}

// diskBytes returns the bytes of the active parts of database, or of every
// database when database is empty.
func (e *env) diskBytes(ctx context.Context, database string) (int64, error) {
	q := "SELECT toInt64(sum(bytes_on_disk)) FROM system.parts WHERE active"
	args := []any{}
	if database != "" {
		q += " AND database = ?"
		args = append(args, database)
	}
	var n int64
	if err := e.admin.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("disk footprint: %w", err)
	}
	return n, nil
}
