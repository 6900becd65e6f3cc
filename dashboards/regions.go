package dashboards

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/sqltext"
	"github.com/pathwayhub/pathwayhub/policy"
)

// byRegion reports whether the audience's share is by region (a national
// lead's): its force_id column holds regions' ONS codes and
// measures.NationalForce.
func (a Audience) byRegion() bool { return a.Role == policy.RoleNationalLead }

// unitNames are the units of a comparison of regions and their names, in
// ONS code order, British Transport Police last.
func unitNames() [][2]string {
	var out [][2]string
	for _, r := range measures.Regions() {
		out = append(out, [2]string{r.Code, r.Name})
	}
	return append(out, [2]string{measures.NationalForce, measures.UnitName(measures.NationalForce)})
}

// regionName is the SQL name of the unit in force_id: a region's name, or
// British Transport Police.
var regionName = transformSQL("force_id", unitNames())

// regionFilter keeps the regions chosen in the region variable (by name),
// or every unit when it is All.
var regionFilter = "$__conditionalAll(" + regionName + " IN (${region:singlequote}), $region)"

// regionMethod says how a by-region chart is made.
const regionMethod = "the published monthly value for each region, one line per region, by calendar month " +
	"(UTC). An incident counts in the region where it began (the nine English regions and Wales); British " +
	"Transport Police, which polices the railway in every region, is shown apart as a national force."

// regionSeriesSQL is a measure's monthly value, one series per region.
func regionSeriesSQL(a Audience, measureID string) string {
	return fmt.Sprintf("SELECT %s, %s AS region, value\nFROM %s.measures\nWHERE measure_id = %s AND %s AND %s\nORDER BY time, region",
		monthTime, regionName, a.Database, sqltext.String(measureID), monthFilter, regionFilter)
}

// regionMatrixSQL is the Making Data Count matrix of a comparison of
// regions: a row per measure, a column per region (and British Transport
// Police), each cell the variation icon and the assurance icon.
func regionMatrixSQL(a Audience) string {
	units := unitNames()
	cols := make([]string, len(units))
	for i, u := range units {
		cols[i] = fmt.Sprintf("  anyIf(cell, force_id = %s) AS `%s`", sqltext.String(u[0]), u[1])
	}
	titles := make([][2]string, len(a.Measures))
	for i, m := range a.Measures {
		titles[i] = [2]string{m.ID, m.Title}
	}
	cell := fmt.Sprintf("if(assurance IN ('', 'suppressed'), %s, concat(%s, '  ', %s))",
		transformSQL("variation", variationIcons), transformSQL("variation", variationIcons), transformSQL("assurance", assuranceIcons))
	return fmt.Sprintf("SELECT %s AS measure,\n%s\nFROM (SELECT measure_id, force_id, %s AS cell FROM %s.spc_summary)\nGROUP BY measure_id\nORDER BY measure",
		transformSQL("measure_id", titles), strings.Join(cols, ",\n"), cell, a.Database)
}

// regionSPCSQL is one region's SPC chart of measure m.
func regionSPCSQL(a Audience, m measures.Measure) string {
	return strings.Replace(spcSQL(a, m), "force_id = '${force}'", regionName+" = '${region}'", 1)
}

// regionVariable is the multi-select region variable of a comparison of
// regions, listing by name the units that have rows.
func regionVariable(a Audience) *dashboard.QueryVariableBuilder {
	return multiVariable(a, "region", "Region", "The regions to show (British Transport Police apart); All shows every one in the share.",
		fmt.Sprintf("SELECT DISTINCT %s AS region FROM %s.measures ORDER BY region", regionName, a.Database))
}

// RegionalComparison is the national lead's dashboard: demand per 100,000
// residents and in all by region, the Making Data Count matrix with regions
// as columns, an SPC chart of every measure for each region, and funnel
// plots of the regions. Regions are not ranked.
func RegionalComparison(a Audience) (Dashboard, error) {
	b := newDashboard(a.ID+"-regions", "Regional comparison · "+a.ID,
		"Demand and pathway performance compared across the regions of England and Wales, for "+a.ID+" ("+a.Purpose+")",
		"regions", a.Role).
		WithVariable(regionVariable(a))
	b.WithPanel(publicationPanel(a,
		"The publication this dashboard reads: the recipient, the agreement and policy decision it rests on, "+
			"when it was published and the last complete month it covers (data cut-off), and the disclosure "+
			"control applied. Method: the publication table the hub writes with every share."))
	b.WithPanel(textPanel("How to read this dashboard",
		"Every figure here is by **region**: an incident counts in the region where it began (the nine English "+
			"regions and Wales). **British Transport Police** polices the railway in every region and is shown apart, "+
			"as a national force. Rates are per 100,000 residents of the region (ONS, Census 2021) and leave British "+
			"Transport Police out. Regions are **not ranked**: the funnel plots show which differ by more than chance, "+
			"and the SPC charts which changed. Small counts are suppressed and the rest rounded before they leave the hub.",
		24, 4))
	b.WithPanel(monthStatusPanel(a, false, 24, 6))
	for _, id := range []string{"detention_rate", "s136_detentions"} {
		m, ok := measures.ByID(id)
		if !ok || !a.has(id) {
			continue
		}
		title := "Demand: " + m.Title + " by region"
		b.WithPanel(timeSeries(title, describe(m, regionMethod+disclosureNote), grafanaUnit(m.Unit), 12, 9,
			series(a, regionSeriesSQL(a, m.ID))))
	}
	matrix := tablePanel("Making Data Count summary: measures × regions",
		"One row per measure, one column per region (and British Transport Police). Each cell shows the variation "+
			"icon of the region's latest month (common cause, or special cause improving, concerning, or neither for "+
			"measures where no direction is better) and, for measures with a target, the assurance icon. Method: NHS "+
			"England 'Making Data Count' rules on the XmR charts below; 'suppressed' where the latest month's count "+
			"was too small to publish; empty where the measure has no series for the region.", 24, 10,
		query(a, regionMatrixSQL(a)))
	matrix.Mappings(summaryMappings())
	b.WithPanel(matrix)
	for _, m := range a.funnelMeasures() {
		b.WithPanel(funnelPanel(a, m))
	}
	for _, m := range a.Measures {
		b.WithRow(dashboard.NewRowBuilder(m.Title + " by region"))
		b.WithPanel(spcPanel(a, m, "region", spcMethod+" "+regionMethod, regionSPCSQL(a, m)))
	}
	d, err := b.Build()
	if err != nil {
		return d, fmt.Errorf("dashboards: regional comparison %s: %w", a.ID, err)
	}
	return d, nil
}
