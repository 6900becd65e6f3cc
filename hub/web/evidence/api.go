package evidence

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// ToProto returns the API's form of a report: the same numbers, as
// published, that the page shows (to one decimal place).
func ToProto(r Report, decisionID string) *pathwayv1.ListSeriesResponse {
	p := r.Provenance
	out := &pathwayv1.ListSeriesResponse{
		From: month(r.From), To: month(r.To), DecisionId: decisionID,
		Provenance: &pathwayv1.Provenance{
			PublicationId: p.PublicationID, Recipient: p.Recipient, Agreement: p.Agreement, Role: p.Role, Purpose: p.Purpose,
			Granularity: p.Granularity, PublicationDecisionId: p.DecisionID, PolicyRevision: p.PolicyRevision,
			PublishedAt: timestamppb.New(p.PublishedAt), DataCutoff: timestamppb.New(p.DataCutoff),
			DisclosureThreshold: p.DisclosureThreshold, RoundingBase: p.RoundingBase, ContentHash: p.ContentHash,
		},
	}
	for _, m := range r.Measures {
		pm := &pathwayv1.EvidenceMeasure{
			Id: m.ID, Title: m.Title, Unit: m.Unit, Direction: m.Direction, Definition: m.Definition, Kind: m.Kind,
			Target: m.Target, NumeratorDefinition: m.NumeratorDef, DenominatorDefinition: m.DenominatorDef,
		}
		for _, s := range m.Series {
			ps := &pathwayv1.ForceSeries{Force: s.Force, Variation: s.Variation, Assurance: s.Assurance}
			for _, pt := range s.Points {
				ps.Points = append(ps.Points, &pathwayv1.SeriesPoint{
					Month: month(pt.Month), Value: pt.Value, Numerator: pt.Numerator, Denominator: pt.Denominator,
					Suppressed: pt.Suppressed, Mean: pt.Mean, Lpl: pt.LPL, Upl: pt.UPL, Type: pt.Type, Rule: pt.Rule,
				})
			}
			pm.Forces = append(pm.Forces, ps)
		}
		out.Measures = append(out.Measures, pm)
	}
	for _, f := range r.Funnels {
		pf := &pathwayv1.FunnelPlot{MeasureId: f.MeasureID, Month: month(f.Month), Target: f.Target, Phi: f.Phi, Tau2: f.Tau2, Adjusted: f.Adjusted}
		for _, u := range f.Units {
			pf.Units = append(pf.Units, &pathwayv1.FunnelUnit{
				Force: u.Force, Value: u.Value, Numerator: u.Numerator, Denominator: u.Denominator, Suppressed: u.Suppressed,
				Lower95: orZero(u.Lower95), Upper95: orZero(u.Upper95), Lower998: orZero(u.Lower998), Upper998: orZero(u.Upper998),
				Position95: u.Position95, Position998: u.Position998,
			})
		}
		out.Funnels = append(out.Funnels, pf)
	}
	return out
}

// month writes a month as "YYYY-MM".
func month(t time.Time) string { return t.Format("2006-01") }

// orZero is *v, or 0 (absent on the wire) for a force with no limits.
func orZero(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}
