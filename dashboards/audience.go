package dashboards

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/measures/disclosure"
	"github.com/pathwayhub/pathwayhub/hub/sqltext"
	"github.com/pathwayhub/pathwayhub/policy"
)

// maxUID is the longest uid Grafana accepts for a dashboard or datasource.
const maxUID = 40

// Audience is one share recipient of the agreements: who reads a set of
// dashboards, and the only database they read.
type Audience struct {
	// ID is the recipient id, e.g. "ncl_icb".
	ID string
	// Role is the recipient's role, e.g. "commissioner".
	Role string
	// Purpose is what the recipient may use the data for.
	Purpose string
	// Granularity is "aggregate" or "record".
	Granularity string
	// Agreement is the id of the agreement that names the recipient.
	Agreement string
	// Database is the recipient's share database, which is also its
	// ClickHouse user name.
	Database string
	// Measures are the catalogue measures granted, in catalogue order.
	Measures []measures.Measure
	// Forces are the forces in the recipient's scope, when it names any.
	Forces []string
	// Fields are the incident columns a record recipient is granted.
	Fields []string
}

// DatasourceUID is the uid of the audience's ClickHouse datasource.
func (a Audience) DatasourceUID() string { return uid("ch-" + a.ID) }

// has reports whether the audience is granted measure id.
func (a Audience) has(id string) bool {
	return slices.ContainsFunc(a.Measures, func(m measures.Measure) bool { return m.ID == id })
}

// funnelMeasures are the granted measures shown on funnel plots. The
// publisher draws a month's plot only with disclosure.MinFunnelUnits units
// shown, so none is listed for a scope of fewer forces, and no rate for a
// share by force while fewer forces than that have a population.
func (a Audience) funnelMeasures() []measures.Measure {
	if len(a.Forces) > 0 && len(a.Forces) < disclosure.MinFunnelUnits && !a.byRegion() {
		return nil
	}
	var out []measures.Measure
	for _, m := range a.Measures {
		if !m.Funnel || (m.Kind == measures.Rate && !a.byRegion() && len(measures.ForcePopulations()) < disclosure.MinFunnelUnits) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// Audiences returns one audience per recipient of the agreements, in the
// order the agreements name them, with share databases named prefix + id.
// A recipient named by more than one agreement is taken from the first, as
// the share publisher does.
func Audiences(agreements []policy.Agreement, prefix string) ([]Audience, error) {
	var out []Audience
	seen := map[string]bool{}
	for _, ag := range agreements {
		for _, r := range ag.Recipients {
			if seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			a := Audience{
				ID: r.ID, Role: r.Role, Purpose: r.Purpose, Granularity: r.Granularity, Agreement: ag.ID,
				Database: prefix + r.ID, Forces: slices.Clone(r.Scope.Forces), Fields: slices.Clone(r.Fields),
			}
			if !sqltext.ValidIdent(a.Database) {
				return nil, fmt.Errorf("dashboards: recipient %s: invalid database name %q", r.ID, a.Database)
			}
			for _, m := range measures.Catalogue() {
				if slices.Contains(r.Measures, m.ID) && definedFor(m, r.Scope, a.byRegion()) {
					a.Measures = append(a.Measures, m)
				}
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// definedFor reports whether the share publisher can publish m for scope,
// by force or by region: not, for example, a rate per resident for a scope
// of districts, whose population the catalogue does not hold, or the
// submissions' timeliness by region.
func definedFor(m measures.Measure, scope policy.Scope, byRegion bool) bool {
	to := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	query := m.QueryFrom
	if byRegion {
		query = m.QueryByRegion
	}
	_, err := query("pathway", "", measures.DefaultThresholds(),
		measures.Scope{Forces: scope.Forces, Regions: scope.Regions, LADs: scope.LADs}, to.AddDate(0, -1, 0), to)
	return !errors.Is(err, measures.ErrScopeNotSupported)
}

// uid returns s when Grafana accepts it as a uid, or a shortened form with a
// hash of s that keeps it unique.
func uid(s string) string {
	if len(s) <= maxUID {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return s[:maxUID-9] + "-" + hex.EncodeToString(sum[:4])
}
