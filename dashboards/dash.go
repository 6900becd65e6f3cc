package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// Tags every generated dashboard carries.
const tagHub = "pathwayhub"

// newDashboard starts a dashboard for an audience with the common settings:
// UTC, read-only (it is regenerated from code), tagged.
func newDashboard(uidBase, title, description string, tags ...string) *dashboardBuilder {
	return newDashboardBuilder(title).Uid(uid(uidBase)).Description(description).
		Tags(append([]string{tagHub}, tags...)).Timezone(common.TimeZoneUtc).Readonly().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).Time("now-2y", "now")
}

// forceVariable is the multi-select force variable of an aggregate share,
// listing the forces that have rows in table.
func forceVariable(a Audience, table string) *dashboard.QueryVariableBuilder {
	return multiVariable(a, "force", "Force", "The forces to show; All shows every force in the share.",
		fmt.Sprintf("SELECT DISTINCT force_id FROM %s.%s ORDER BY force_id", a.Database, table))
}

// multiVariable is a multi-select variable whose options query q lists on
// the audience's datasource, All at first.
func multiVariable(a Audience, name, label, description, q string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).Label(label).Description(description).
		Datasource(datasourceRef(a)).Query(dashboard.StringOrMap{String: &q}).Definition(q).
		Refresh(dashboard.VariableRefreshOnDashboardLoad).Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).IncludeAll(true).
		Current(dashboard.VariableOption{
			Selected: ptr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		})
}

// datasourceRef is a reference to the audience's ClickHouse datasource.
func datasourceRef(a Audience) common.DataSourceRef {
	return common.DataSourceRef{Type: ptr(ClickHousePluginID), Uid: ptr(a.DatasourceUID())}
}

// publicationPanel is the table of the publication a dashboard reads, with
// description saying what it holds.
func publicationPanel(a Audience, description string) *table.PanelBuilder {
	return tablePanel("What this share is", description, 24, 5,
		query(a, "SELECT recipient, agreement, purpose, published_at, data_cutoff, disclosure_threshold, rounding_base, policy_revision\nFROM "+
			a.Database+".publication"))
}

// monthStatusPanel lists, for each force (those chosen in the force
// variable, when byForce) and month of the time range, whether the force
// has approved the month: provisional, approved, or revised after
// approval.
func monthStatusPanel(a Audience, byForce bool, w, h uint32) *table.PanelBuilder {
	where := monthFilter
	if byForce {
		where += " AND " + forceFilter
	}
	return tablePanel("Which months each force has approved",
		"Each force signs off (approves) a month of its data when it is complete; the figures of a month not "+
			"approved are provisional and may still change. A month revised after approval had records sent for it "+
			"after its sign-off, each with a stated reason. Method: the month_status table the hub publishes with "+
			"every share, from the forces' approvals; it holds no count.", w, h,
		query(a, fmt.Sprintf("SELECT force_id AS force, month, state, approved_at\nFROM %s.month_status\nWHERE %s\nORDER BY month DESC, force",
			a.Database, where)))
}

// query is a ClickHouse target on the audience's datasource.
func query(a Audience, sql string) *ClickHouseQueryBuilder {
	return NewClickHouseQuery(a.DatasourceUID(), sql)
}

// series is a time-series target on the audience's datasource.
func series(a Audience, sql string) *ClickHouseQueryBuilder {
	return query(a, sql).Format(FormatTimeSeries)
}
