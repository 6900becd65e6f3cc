package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/pathwayhub/pathwayhub/ingest/client"
	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	"github.com/pathwayhub/pathwayhub/ingest/simulate"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

func simulateCmd() *cobra.Command {
	var force, keyFile, hub, token, out, end string
	var months int
	var seed uint64
	var scale, speed float64
	var live bool
	cmd := &cobra.Command{
		Use:   "simulate --force btp|metropolitan|city-of-london",
		Short: "Generate a synthetic feed: history to a file or the hub, or a live feed",
		Long: `Generate synthetic, already-pseudonymised incident records for a simulated
force, deterministic from --seed, with realistic volumes and the trends of the
data standard (time at place of safety falling, consultation and ambulance
conveyance rising, detentions falling after RCRP go-live).

History goes to --out as NDJSON of IncidentRecord in proto JSON (the form the
API accepts), or straight to --hub with --token. With --live, incidents open,
update and close in real time through the API until interrupted; the trusts'
health updates need trust tokens and are only counted here (the demo sends
them).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := simKey(keyFile)
			if err != nil {
				return err
			}
			if live {
				if hub == "" || token == "" {
					return errors.New("--live needs --hub and --token")
				}
				sink := &ctlSink{c: client.New(client.Options{URL: hub, Token: token}), out: cmd.OutOrStdout()}
				err := simulate.RunLive(cmd.Context(), simulate.LiveOptions{Forces: []string{force}, Seed: seed, Key: key, Speed: speed}, sink)
				if errors.Is(err, context.Canceled) {
					return nil
				}
				return err
			}
			opts := simulate.Options{Force: force, Months: months, Seed: seed, Scale: scale, Key: key}
			if end != "" {
				if opts.End, err = time.Parse("2006-01-02", end); err != nil {
					return fmt.Errorf("--end: %w", err)
				}
			}
			recs, err := simulate.History(opts)
			if err != nil {
				return err
			}
			switch {
			case out != "":
				return writeNDJSON(out, recs.Incidents)
			case hub != "" && token != "":
				sum, err := client.New(client.Options{URL: hub, Token: token}).SubmitIncidents(cmd.Context(), recs.Incidents)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d incidents: %v\n", force, len(recs.Incidents), sum.Counts)
				return nil
			default:
				return errors.New("say where the history goes: --out FILE, or --hub and --token")
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&force, "force", "", "simulated force: btp, metropolitan or city-of-london")
	f.IntVar(&months, "months", 24, "months of history")
	f.StringVar(&end, "end", "", "end of history, YYYY-MM-DD, exclusive (default: a fixed date, for reproducibility)")
	f.Uint64Var(&seed, "seed", 1, "random seed: the same seed gives the same records")
	f.Float64Var(&scale, "scale", 1, "volume multiplier")
	f.StringVar(&keyFile, "key-file", "", "region key for tokens (default: a fixed, public simulation key)")
	f.StringVar(&out, "out", "", "write history as NDJSON to this file (- for stdout)")
	f.StringVar(&hub, "hub", os.Getenv("PATHWAYCTL_HUB"), "hub base URL (env PATHWAYCTL_HUB)")
	f.StringVar(&token, "token", os.Getenv("PATHWAYCTL_TOKEN"), "force token (env PATHWAYCTL_TOKEN)")
	f.BoolVar(&live, "live", false, "run a live feed through the hub until interrupted")
	f.Float64Var(&speed, "speed", 60, "live speed, simulated seconds per real second")
	_ = cmd.MarkFlagRequired("force")
	return cmd
}

// simKey is the key file's key, or a fixed key for synthetic data: simulated
// people are not real, so their tokens need no secret.
func simKey(path string) (pseudo.Key, error) {
	if path != "" {
		return pseudo.LoadKey(path)
	}
	return pseudo.NewKey([]byte("pathway-hub-simulation-key-not-secret"))
}

func writeNDJSON(path string, recs []*pathwayv1.IncidentRecord) (err error) {
	var w io.Writer = os.Stdout
	if path != "-" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		w = f
	}
	bw := bufio.NewWriter(w)
	for _, r := range recs {
		b, err := protojson.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := bw.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return bw.Flush()
}

type ctlSink struct {
	c   *client.Client
	out io.Writer
}

func (s *ctlSink) Incidents(ctx context.Context, recs []*pathwayv1.IncidentRecord) error {
	sum, err := s.c.SubmitIncidents(ctx, recs)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "%s %d snapshots: %v\n", time.Now().UTC().Format(time.TimeOnly), len(recs), sum.Counts)
	return nil
}

func (s *ctlSink) HealthUpdates(_ context.Context, trustID string, ups []*pathwayv1.HealthUpdate) error {
	fmt.Fprintf(s.out, "%s %d health updates for trust %s (not sent: needs the trust's token)\n", time.Now().UTC().Format(time.TimeOnly), len(ups), trustID)
	return nil
}
