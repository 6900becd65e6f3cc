package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// Dashboard is a dashboard in Grafana's classic JSON model (schemaVersion
// 42): the model file provisioning loads and Grafana's published dashboard
// JSON schema describes. The SDK marks it deprecated in favour of its v2
// resource model, which Grafana takes through its API, not from
// provisioned files, so the classic model is the one generated here.
type Dashboard = dashboard.Dashboard //nolint:staticcheck // the classic model is what file provisioning loads (see above)

// dashboardBuilder builds a Dashboard.
type dashboardBuilder = dashboard.DashboardBuilder //nolint:staticcheck // builds the classic model (see Dashboard)

// newDashboardBuilder starts a Dashboard.
func newDashboardBuilder(title string) *dashboardBuilder {
	return dashboard.NewDashboardBuilder(title) //nolint:staticcheck // builds the classic model (see Dashboard)
}
