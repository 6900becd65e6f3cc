package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"

	"github.com/pathwayhub/pathwayhub/dashboards"
	"github.com/pathwayhub/pathwayhub/hub/api/auth"
	"github.com/pathwayhub/pathwayhub/hub/app"
	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/measures/annual"
	"github.com/pathwayhub/pathwayhub/hub/publish/share"
	"github.com/pathwayhub/pathwayhub/hub/store"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/ingest/client"
	"github.com/pathwayhub/pathwayhub/ingest/login"
	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	"github.com/pathwayhub/pathwayhub/ingest/simulate"
	"github.com/pathwayhub/pathwayhub/policy"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1/pathwayv1connect"
)

// Agreements is the directory of the example agreements (London's and the
// national one), relative to the repository root, which the demo uses
// unless configured otherwise.
const Agreements = "policy/agreements"

// Options configure the demo.
type Options struct {
	// Config is the hub's configuration; Credentials is ignored (the demo
	// makes its own).
	Config config.Config
	Logger *slog.Logger
	// Out receives the demo's narration.
	Out io.Writer
	// Months of history per force, Seed for the simulation.
	Months int
	Seed   uint64
	// LiveFor bounds the live trickle; zero runs it until ctx ends.
	LiveFor time.Duration
	// Speed of the live trickle in simulated seconds per real second.
	Speed float64
	// Progress shows progress bars.
	Progress bool
	// Cluster runs the demo on a local ClickHouse cluster (ZooKeeper and
	// two replicas, under the data directory) with two hubs, each its own
	// process, so that either can be killed.
	Cluster bool
	// HubCommand is the command that runs a hub on the cluster, before
	// "serve" and its flags; empty means this program.
	HubCommand []string
}

// Run runs the demo until ctx ends (or LiveFor passes).
func Run(ctx context.Context, opts Options) error {
	out := opts.Out
	dir := filepath.Join(opts.Config.DataDir, "demo")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	key, err := demoKey(filepath.Join(dir, "region.key"))
	if err != nil {
		return err
	}
	end := time.Now().UTC()
	end = time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC)

	// Simulate first: the trusts that need credentials come from the data.
	histories := map[string]simulate.Records{}
	trusts := map[string]bool{}
	for _, force := range simulate.Forces() {
		recs, err := simulate.History(simulate.Options{Force: force, Months: opts.Months, End: end, Seed: opts.Seed, Key: key})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		histories[force] = recs
		for _, u := range recs.HealthUpdates {
			trusts[u.TrustID] = true
		}
	}
	agreements, err := policy.LoadAgreements(opts.Config.Agreements, measures.IDs())
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// A national lead compares regions: two forces of other regions give
	// it more than London and BTP to compare.
	for i, o := range otherRegions(agreements) {
		recs, err := simulate.History(simulate.Options{Force: "metropolitan", Months: opts.Months, End: end, Seed: opts.Seed + 100 + uint64(i), Key: key, Scale: 0.4})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		for _, r := range recs.Incidents {
			r.ForceId, r.RegionCode, r.LadCode = o.force, o.region, o.lad
		}
		histories[o.force] = simulate.Records{Incidents: recs.Incidents, Start: recs.Start, End: recs.End}
	}
	readers, err := recipientOrgs(agreements)
	if err != nil {
		return err
	}
	creds, tokens, err := makeCredentials(dir, slices.Sorted(maps.Keys(histories)), slices.Sorted(maps.Keys(trusts)), readers)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var info app.Info
	var historyIn time.Time // on the cluster: when the history was in
	var hubsDone []chan error
	defer func() {
		// On an early return, the hubs stop before the demo does; their
		// errors are the demo's own error's consequences.
		cancel()
		for _, done := range hubsDone {
			if err := <-done; err != nil && opts.Logger != nil {
				opts.Logger.Warn("hub stopped with an error", "err", err)
			}
		}
	}()
	if opts.Cluster {
		var infos []app.Info
		if infos, hubsDone, err = startClusterHubs(ctx, opts, filepath.Join(dir, "credentials.yaml")); err != nil {
			return err
		}
		// Half the forces through each hub; the lease holder publishes.
		forces := slices.Sorted(maps.Keys(histories))
		for i, inf := range infos {
			part := map[string]simulate.Records{}
			for j, f := range forces {
				if j%len(infos) == i {
					part[f] = histories[f]
				}
			}
			if err := submitHistory(ctx, opts, inf, tokens, part); err != nil {
				return err
			}
		}
		// The lease holder publishes a few seconds after the last batch
		// stored: what it publishes from here on covers the history.
		historyIn = time.Now().UTC().Truncate(time.Second)
		if info, err = leaseHolder(ctx, out, infos, opts.Config.ClickHouse.Database); err != nil {
			return err
		}
	} else {
		var done chan error
		if info, done, err = startHub(ctx, opts.Config, opts.Logger, creds); err != nil {
			return err
		}
		hubsDone = append(hubsDone, done)
		fmt.Fprintf(out, "\nPathway Hub is serving at %s (ClickHouse %s, database %s)\n\n", info.URL, info.ClickHouseAddr, info.Database)
		err = submitHistory(ctx, opts, info, tokens, histories)
	}
	if err == nil {
		err = printStats(ctx, out, info)
	}
	if err == nil && !opts.Cluster {
		err = approveLastMonth(ctx, out, info, tokens["force/metropolitan"])
	}
	if err == nil {
		err = publishShares(ctx, out, info, historyIn)
		if err != nil && opts.Cluster {
			err = withHubLogs(err, opts.Config.DataDir)
		}
	}
	if err == nil {
		var where string
		where, err = dashboards.WriteLocal(dashboards.Local{Dir: opts.Config.DataDir, Agreements: opts.Config.Agreements, Prefix: info.SharePrefix,
			PasswordsFile: info.PasswordsFile, ClickHouseAddr: info.ClickHouseAddr, HubURL: info.URL})
		fmt.Fprintf(out, "\nGrafana dashboards and provisioning: %s/grafana; Prometheus configuration: %s/prometheus\n", where, where)
	}
	if err == nil && !opts.Cluster {
		err = printReturn(ctx, out, info, tokens["force/metropolitan"], dir)
	}
	if err == nil {
		// A one-time login link: it starts a session; the token never
		// goes in a URL.
		link, expires, lerr := login.Request(ctx, http.DefaultClient, info.URL, tokens["icb/QMJ"], "/evidence/ncl_icb")
		if lerr != nil {
			err = lerr
		} else {
			fmt.Fprintf(out, "Evidence for North Central London ICB (one-time link, until %s): %s\n"+
				"  another: go run ./cmd/pathwayctl evidence login --hub %s --token \"$(grep icb/QMJ %s | cut -d' ' -f2)\" --recipient ncl_icb\n\n",
				expires.Local().Format("15:04"), link, info.URL, filepath.Join(dir, "tokens.txt"))
			printWhereToLook(out, info, dir)
		}
	}
	if err == nil {
		err = live(ctx, opts, info, tokens, key)
	}
	cancel()
	var hubErrs []error
	for _, done := range hubsDone {
		hubErrs = append(hubErrs, <-done)
	}
	hubsDone = nil
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return errors.Join(hubErrs...)
}

// startHub runs a hub with cfg until ctx ends, and returns once it serves.
func startHub(ctx context.Context, cfg config.Config, logger *slog.Logger, creds *auth.Credentials) (app.Info, chan error, error) {
	ready := make(chan app.Info, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{Config: cfg, Logger: logger, Credentials: creds, Ready: func(i app.Info) { ready <- i }})
	}()
	select {
	case info := <-ready:
		return info, done, nil
	case err := <-done:
		return app.Info{}, nil, fmt.Errorf("demo: hub: %w", err)
	}
}

func submitHistory(ctx context.Context, opts Options, info app.Info, tokens map[string]string, histories map[string]simulate.Records) error {
	out := opts.Out
	for _, force := range slices.Sorted(maps.Keys(histories)) {
		h := histories[force]
		bar := client.NewProgressBar(os.Stderr, len(h.Incidents), fmt.Sprintf("%-19s incidents", force), opts.Progress)
		c := client.New(client.Options{URL: info.URL, Token: tokens["force/"+force], Progress: func(done int) { _ = bar.Set(done) }})
		sum, err := c.SubmitIncidents(ctx, h.Incidents)
		_ = bar.Finish()
		if err != nil {
			return fmt.Errorf("demo: submit %s: %w", force, err)
		}
		fmt.Fprintf(out, "%-19s %d incidents, %s to %s: %s\n", force, len(h.Incidents),
			h.Start.Format("Jan 2006"), h.End.AddDate(0, 0, -1).Format("Jan 2006"), countsLine(sum))

		byTrust := map[string][]*pathwayv1.HealthUpdate{}
		for _, u := range h.HealthUpdates {
			byTrust[u.TrustID] = append(byTrust[u.TrustID], u.Update)
		}
		total := client.Summary{Counts: map[string]int{}}
		for _, trust := range slices.Sorted(maps.Keys(byTrust)) {
			tc := client.New(client.Options{URL: info.URL, Token: tokens["trust/"+trust]})
			sum, err := tc.SubmitHealthUpdates(ctx, byTrust[trust])
			if err != nil {
				return fmt.Errorf("demo: submit health updates of %s: %w", trust, err)
			}
			for k, n := range sum.Counts {
				total.Counts[k] += n
			}
		}
		fmt.Fprintf(out, "%-19s %d health updates from %d trusts: %s\n", "", len(h.HealthUpdates), len(byTrust), countsLine(total))
	}
	return nil
}

func countsLine(s client.Summary) string {
	var parts []string
	for _, k := range []string{"accepted", "updated", "unchanged", "stale", "rejected"} {
		if n := s.Counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// printStats reads counts per force and month back from ClickHouse.
func printStats(ctx context.Context, out io.Writer, info app.Info) error {
	conn, err := chdb.Open(ctx, chdb.Options{Addr: info.ClickHouseAddr, Database: info.Database, Username: info.ClickHouseUser, Password: info.ClickHousePassword})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer conn.Close()
	counts, err := store.New(conn, info.Database).MonthlyCounts(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintln(out, "\nIncidents stored per force and month (read back from ClickHouse; s136 in brackets):")
	return WriteMonthlyTable(out, counts)
}

// WriteMonthlyTable writes counts as a table with a row per month and a
// column per force.
func WriteMonthlyTable(out io.Writer, counts []store.MonthCount) error {
	forces := map[string]bool{}
	months := map[time.Time]map[string]store.MonthCount{}
	for _, c := range counts {
		forces[c.ForceID] = true
		if months[c.Month] == nil {
			months[c.Month] = map[string]store.MonthCount{}
		}
		months[c.Month][c.ForceID] = c
	}
	fs := slices.Sorted(maps.Keys(forces))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "month\t")
	for _, f := range fs {
		fmt.Fprintf(tw, "%s\t", f)
	}
	fmt.Fprintln(tw)
	ms := make([]time.Time, 0, len(months))
	for m := range months {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b time.Time) int { return a.Compare(b) })
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t", m.Format("2006-01"))
		for _, f := range fs {
			c := months[m][f]
			fmt.Fprintf(tw, "%d (%d)\t", c.Incidents, c.S136)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func printWhereToLook(out io.Writer, info app.Info, dir string) {
	fmt.Fprintf(out, `
Where to look:
  metrics:      curl -s %[11]s/metrics | grep pathwayhub_ingest   (operators only; its own listener)
  counts:       %[13]s
  reflection:   grpcurl -plaintext %[4]s list
  submit:       go run ./cmd/pathwayctl submit --hub %[1]s --token "$(grep force/btp %[5]s | cut -d' ' -f2)" --key-file %[6]s ingest/export/testdata/sample.csv
  tokens:       %[5]s (one "org token" per line; the hub stores only their hashes)
  access:       go run ./cmd/pathwayctl access --hub %[1]s --token "$(grep icb/QMJ %[5]s | cut -d' ' -f2)"
  months:       go run ./cmd/pathwayctl month list --hub %[1]s --token "$(grep force/metropolitan %[5]s | cut -d' ' -f2)" --force metropolitan
  return:       go run ./cmd/pathwayctl return --hub %[1]s --token "$(grep force/metropolitan %[5]s | cut -d' ' -f2)" --force metropolitan --year %[14]s
  shares:       ClickHouse users in %[7]s, passwords in %[8]s; e.g.
                clickhouse-client --port %[9]s --user %[10]sncl_icb --password "$(grep ncl_icb %[8]s | cut -d' ' -f2)" -q 'SHOW TABLES FROM %[10]sncl_icb'
  alert rules:  go run ./cmd/pathwayhub alert-rules --out -

Live trickle running: incidents open, update and close in real time. Ctrl-C stops the demo.
`, info.URL, info.ClickHouseAddr, info.Database, strings.TrimPrefix(info.URL, "http://"),
		filepath.Join(dir, "tokens.txt"), filepath.Join(dir, "region.key"), usersAt(info), info.PasswordsFile,
		info.ClickHouseAddr[strings.LastIndexByte(info.ClickHouseAddr, ':')+1:], info.SharePrefix, info.MetricsURL, filepath.Dir(dir), countsCommand(info, dir), annual.LastEnded(time.Now()))
}

// approveLastMonth has the Met's supervisors sign off its last complete
// month, as a force does when a month's data is complete: the shares then
// mark it approved.
func approveLastMonth(ctx context.Context, out io.Writer, info app.Info, token string) error {
	if token == "" {
		return nil
	}
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format("2006-01")
	c := pathwayv1connect.NewApprovalServiceClient(http.DefaultClient, info.URL)
	req := connect.NewRequest(&pathwayv1.ApproveMonthRequest{Force: "metropolitan", Month: month})
	req.Header().Set("Authorization", "Bearer "+token)
	resp, err := c.ApproveMonth(ctx, req)
	if err != nil {
		return fmt.Errorf("demo: approve the Met's %s: %w", month, err)
	}
	fmt.Fprintf(out, "\nThe Met's supervisors approved %s (%d incidents; decision %s): the shares mark it approved, the other months provisional.\n",
		month, resp.Msg.GetMonth().GetIncidents(), resp.Msg.GetMonth().GetDecisionId())
	return nil
}

// printReturn asks the hub, as the Met's supervisors, for the Met's Home
// Office return of the last financial year, writes its signed pack under
// dir and prints its first tables.
func printReturn(ctx context.Context, out io.Writer, info app.Info, token, dir string) error {
	if token == "" {
		return nil // the agreements give the Met no credential
	}
	year := annual.LastEnded(time.Now()).String()
	c := pathwayv1connect.NewReturnServiceClient(http.DefaultClient, info.URL)
	req := connect.NewRequest(&pathwayv1.GetAnnualReturnRequest{Force: "metropolitan", Year: year})
	req.Header().Set("Authorization", "Bearer "+token)
	start := time.Now()
	resp, err := c.GetAnnualReturn(ctx, req)
	if err != nil {
		return fmt.Errorf("demo: the Met's annual return: %w", err)
	}
	took := time.Since(start)
	path := filepath.Join(dir, resp.Msg.GetPackName())
	if err := os.WriteFile(path, resp.Msg.GetPack(), 0o600); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	p := resp.Msg.GetProvenance()
	fmt.Fprintf(out, "\nThe Met's Home Office return for %s, generated in %.1f s (signed pack %s):\n  %d s136 detentions",
		year, took.Seconds(), path, p.GetDetentions())
	for _, t := range resp.Msg.GetTables() {
		if t.GetId() != "place_of_safety" {
			continue
		}
		var cells []string
		for _, r := range t.GetRows()[:len(t.GetRows())-1] {
			cells = append(cells, fmt.Sprintf("%s %d", r.GetLabel(), r.GetDetentions()))
		}
		fmt.Fprint(out, "; first place of safety: "+strings.Join(cells, ", "))
	}
	fmt.Fprintln(out)
	return nil
}

// countsCommand is how to read the counts per force and month again.
func countsCommand(info app.Info, dir string) string {
	if info.UsersNode != "" { // on the cluster
		return fmt.Sprintf("go run ./cmd/pathwayhub stats --clickhouse %s --database %s --user %s --password \"$(cat %s)\"   (either replica)",
			info.ClickHouseAddr, info.Database, info.ClickHouseUser, filepath.Join(filepath.Dir(dir), "cluster", "hub-password"))
	}
	return fmt.Sprintf("go run ./cmd/pathwayhub stats --data-dir %s --database %s   (the managed ClickHouse at %s, its password kept there)",
		filepath.Dir(dir), info.Database, info.ClickHouseAddr)
}

// usersAt says where the recipients' users are: the users.d file, or on a
// cluster the ZooKeeper node every server reads them from.
func usersAt(info app.Info) string {
	if info.UsersNode != "" {
		return "ZooKeeper " + info.UsersNode + " (every server reads them)"
	}
	return info.UsersFile
}

// liveSink submits the live feed through the API with each org's token.
type liveSink struct {
	url    string
	tokens map[string]string
	out    io.Writer
}

// Incidents submits a force's snapshots with that force's token.
func (s *liveSink) Incidents(ctx context.Context, recs []*pathwayv1.IncidentRecord) error {
	if len(recs) == 0 {
		return nil
	}
	c := client.New(client.Options{URL: s.url, Token: s.tokens["force/"+recs[0].GetForceId()]})
	sum, err := c.SubmitIncidents(ctx, recs)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "live  %-19s %d snapshots: %s\n", recs[0].GetForceId(), len(recs), countsLine(sum))
	return nil
}

// HealthUpdates submits a trust's updates with that trust's token.
func (s *liveSink) HealthUpdates(ctx context.Context, trustID string, ups []*pathwayv1.HealthUpdate) error {
	token, ok := s.tokens["trust/"+trustID]
	if !ok {
		return nil // a trust without a demo credential; its updates are not sent
	}
	c := client.New(client.Options{URL: s.url, Token: token})
	sum, err := c.SubmitHealthUpdates(ctx, ups)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "live  trust %-9s %d updates: %s\n", trustID, len(ups), countsLine(sum))
	return nil
}

func live(ctx context.Context, opts Options, info app.Info, tokens map[string]string, key pseudo.Key) error {
	if opts.LiveFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.LiveFor)
		defer cancel()
	}
	sink := &liveSink{url: info.URL, tokens: tokens, out: opts.Out}
	err := simulate.RunLive(ctx, simulate.LiveOptions{Seed: opts.Seed, Key: key, Speed: opts.Speed}, sink)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// makeCredentials creates a token per organisation, writes the hashes as a
// credentials file and the tokens to tokens.txt (mode 0600), and returns both.
func makeCredentials(dir string, forces, trusts []string, readers []auth.Org) (*auth.Credentials, map[string]string, error) {
	creds := &auth.Credentials{}
	tokens := map[string]string{}
	var file, list strings.Builder
	file.WriteString("# Demo credentials, regenerated by every `pathwayhub demo`.\ncredentials:\n")
	add := func(org auth.Org) error {
		token, hash, err := auth.NewToken()
		if err != nil {
			return err
		}
		creds.Add(token, org)
		tokens[org.String()] = token
		fmt.Fprintf(&file, "  - org: %s\n    token_sha256: %s\n", org, hash)
		fmt.Fprintf(&list, "%s %s\n", org, token)
		return nil
	}
	for _, f := range forces {
		if err := add(auth.Org{Kind: auth.KindForce, ID: f}); err != nil {
			return nil, nil, fmt.Errorf("demo: %w", err)
		}
	}
	for _, t := range trusts {
		if err := add(auth.Org{Kind: auth.KindTrust, ID: t}); err != nil {
			return nil, nil, fmt.Errorf("demo: %w", err)
		}
	}
	for _, r := range readers {
		if _, done := tokens[r.String()]; done {
			continue
		}
		if err := add(r); err != nil {
			return nil, nil, fmt.Errorf("demo: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "credentials.yaml"), []byte(file.String()), 0o600); err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokens.txt"), []byte(list.String()), 0o600); err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	return creds, tokens, nil
}

// otherRegion is a force of another region than London, simulated from
// the Metropolitan Police's profile at 40% and relabelled (force, region,
// one district; London's places of safety; no health updates).
type otherRegion struct{ force, region, lad string }

// otherRegions are the forces of other regions the demo simulates when an
// agreement has a national lead and names them as controllers.
func otherRegions(agreements []policy.Agreement) []otherRegion {
	all := []otherRegion{
		{"west-midlands", "E12000005", "E08000025"},      // Birmingham
		{"greater-manchester", "E12000002", "E08000003"}, // Manchester
	}
	national, controllers := false, map[string]bool{}
	for _, a := range agreements {
		for _, c := range a.Controllers {
			controllers[c] = true
		}
		for _, r := range a.Recipients {
			national = national || r.Role == policy.RoleNationalLead
		}
	}
	var out []otherRegion
	for _, o := range all {
		if national && controllers["force/"+o.force] {
			out = append(out, o)
		}
	}
	return out
}

// recipientOrgs returns the organisations that receive shares under the
// agreements, so the demo can give each a credential.
func recipientOrgs(agreements []policy.Agreement) ([]auth.Org, error) {
	seen := map[string]bool{}
	var out []auth.Org
	for _, a := range agreements {
		for _, r := range a.Recipients {
			if seen[r.Org] {
				continue
			}
			seen[r.Org] = true
			org, err := auth.ParseOrg(r.Org)
			if err != nil {
				return nil, fmt.Errorf("demo: agreement %s: %w", a.ID, err)
			}
			out = append(out, org)
		}
	}
	return out, nil
}

// publishShares publishes every recipient's share now and reports it, with a
// taste of what one commissioner sees. A hub in its own process (on the
// cluster) publishes by itself a few seconds after the last batch: then
// the publications it made after historyIn are reported.
func publishShares(ctx context.Context, out io.Writer, info app.Info, historyIn time.Time) error {
	if info.Publish == nil {
		return waitForShares(ctx, out, info, historyIn)
	}
	rep, err := info.Publish(ctx)
	if err != nil {
		return fmt.Errorf("demo: publish: %w", err)
	}
	fmt.Fprintf(out, "\nShares published under the agreements (policy revision %s):\n", info.Policy.Revision())
	if err := writePublished(out, rep); err != nil {
		return err
	}
	return printViews(ctx, out, info, rep)
}

// writePublished writes a table of the shares published (and withdrawn).
func writePublished(out io.Writer, rep share.Report) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "recipient\tagreement\ttables (rows)\tcontent hash")
	for _, p := range rep.Published {
		var parts []string
		for _, name := range slices.Sorted(maps.Keys(p.Rows)) {
			parts = append(parts, fmt.Sprintf("%s %d", name, p.Rows[name]))
		}
		hash := "— (a record share, rewritten batch by batch)"
		if len(p.ContentHash) >= 12 {
			hash = p.ContentHash[:12] + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Recipient, p.Agreement, strings.Join(parts, ", "), hash)
	}
	for _, id := range slices.Sorted(maps.Keys(rep.Withdrawn)) {
		fmt.Fprintf(tw, "%s\twithdrawn\t%s\t\n", id, strings.Join(rep.Withdrawn[id], "; "))
	}
	return tw.Flush()
}

// printCommissionerView prints the last months of three measures from the
// North Central London ICB's share, as that ICB's own ClickHouse user reads
// them would: after disclosure control, with the SPC signal.
func printCommissionerView(ctx context.Context, out io.Writer, info app.Info, rep share.Report) error {
	var db string
	for _, p := range rep.Published {
		if p.Recipient == "ncl_icb" {
			db = info.SharePrefix + p.Recipient
		}
	}
	if db == "" {
		return nil
	}
	conn, err := chdb.Open(ctx, chdb.Options{Addr: info.ClickHouseAddr, Username: info.ClickHouseUser, Password: info.ClickHousePassword})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer conn.Close()
	rows, err := conn.Query(ctx, `SELECT month, measure_id, force_id, value, suppressed, spc_type FROM `+db+`.measures
		WHERE measure_id IN ('s136_detentions', 'hcp_consultation', 'ambulance_conveyance') AND month >= addMonths(today(), -4)
		ORDER BY measure_id, force_id, month`)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer rows.Close()
	fmt.Fprintf(out, "\nWhat North Central London ICB sees (%s.measures, its boroughs only; counts 1–7 suppressed, counts rounded to 5):\n", db)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tforce\tmonth\tvalue\tSPC")
	for rows.Next() {
		var month time.Time
		var measure, force, signal string
		var value *float64
		var suppressed uint8
		if err := rows.Scan(&month, &measure, &force, &value, &suppressed, &signal); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		v := "suppressed"
		if value != nil {
			v = fmt.Sprintf("%.1f", *value)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", measure, force, month.Format("2006-01"), v, signal)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return tw.Flush()
}

// printViews prints what two recipients see: North Central London ICB, and
// (with the national agreement) the NPCC's national lead.
func printViews(ctx context.Context, out io.Writer, info app.Info, rep share.Report) error {
	if err := printCommissionerView(ctx, out, info, rep); err != nil {
		return err
	}
	return printNationalView(ctx, out, info, rep)
}

// printNationalView prints the last months of detentions per 100,000
// residents by region from the NPCC national lead's share, when published.
func printNationalView(ctx context.Context, out io.Writer, info app.Info, rep share.Report) error {
	if !slices.ContainsFunc(rep.Published, func(p share.Publication) bool { return p.Recipient == "npcc_mh_lead" }) {
		return nil
	}
	db := info.SharePrefix + "npcc_mh_lead"
	conn, err := chdb.Open(ctx, chdb.Options{Addr: info.ClickHouseAddr, Username: info.ClickHouseUser, Password: info.ClickHousePassword})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer conn.Close()
	rows, err := conn.Query(ctx, `SELECT month, force_id, value, suppressed FROM `+db+`.measures
		WHERE measure_id = 'detention_rate' AND month >= addMonths(today(), -3) ORDER BY month, force_id`)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer rows.Close()
	fmt.Fprintf(out, "\nWhat the NPCC's national lead sees (%s: by region, where each incident began; British Transport Police apart, and without a rate):\n", db)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "region\tmonth\ts136 detentions per 100,000 residents")
	for rows.Next() {
		var month time.Time
		var unit string
		var value *float64
		var suppressed uint8
		if err := rows.Scan(&month, &unit, &value, &suppressed); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		v := "suppressed"
		if value != nil {
			v = fmt.Sprintf("%.2f", *value)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", measures.UnitName(unit), month.Format("2006-01"), v)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return tw.Flush()
}

// demoKey loads the demo's regional key, creating it on first use.
func demoKey(path string) (pseudo.Key, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := pseudo.WriteNewKey(path); err != nil {
			return pseudo.Key{}, fmt.Errorf("demo: %w", err)
		}
	}
	k, err := pseudo.LoadKey(path)
	if err != nil {
		return pseudo.Key{}, fmt.Errorf("demo: %w", err)
	}
	return k, nil
}
