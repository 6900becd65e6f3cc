package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
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
	q := fmt.Sprintf("SELECT DISTINCT force_id FROM %s.%s ORDER BY force_id", a.Database, table)
	return dashboard.NewQueryVariableBuilder("force").Label("Force").
		Description("The forces to show; All shows every force in the share.").
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

// query is a ClickHouse target on the audience's datasource.
func query(a Audience, sql string) *ClickHouseQueryBuilder {
	return NewClickHouseQuery(a.DatasourceUID(), sql)
}

// series is a time-series target on the audience's datasource.
func series(a Audience, sql string) *ClickHouseQueryBuilder {
	return query(a, sql).Format(FormatTimeSeries)
}
