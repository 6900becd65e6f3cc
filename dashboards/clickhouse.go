package dashboards

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
)

// ClickHousePluginID is the id of Grafana's official ClickHouse datasource
// plugin.
const ClickHousePluginID = "grafana-clickhouse-datasource"

// ClickHousePluginVersion is the plugin version written on every target.
// Grafana migrates a target without a 4.x pluginVersion as a v3 query.
const ClickHousePluginVersion = "4.11.1"

// Format is how the ClickHouse plugin shapes a query's result.
type Format int

// The result formats of the ClickHouse plugin (its numeric enum).
const (
	// FormatTimeSeries makes time series: a time column, numeric values, and
	// string columns as series labels.
	FormatTimeSeries Format = 0
	// FormatTable returns the rows as they are.
	FormatTable Format = 1
)

// queryType is the plugin's name for a format, sent as queryType.
func (f Format) queryType() string {
	if f == FormatTimeSeries {
		return "timeseries"
	}
	return "table"
}

// ClickHouseQuery is a target of the ClickHouse plugin in its SQL-editor
// mode (query model v4): raw SQL, with the plugin's macros and Grafana's
// template variables, and the result format.
type ClickHouseQuery struct {
	// RefID names the query within its panel.
	RefID string `json:"refId"`
	// Hide excludes the query from the panel.
	Hide *bool `json:"hide,omitempty"`
	// Datasource is the ClickHouse datasource it runs on.
	Datasource *common.DataSourceRef `json:"datasource,omitempty"`
	// PluginVersion is the plugin version the target was written for.
	PluginVersion string `json:"pluginVersion"`
	// EditorType is "sql": the raw SQL editor.
	EditorType string `json:"editorType"`
	// RawSQL is the query text.
	RawSQL string `json:"rawSql"`
	// Format is the result format.
	Format Format `json:"format"`
	// QueryType is "timeseries" or "table", matching Format.
	QueryType string `json:"queryType"`
}

// ImplementsDataqueryVariant marks ClickHouseQuery as a dataquery variant.
func (ClickHouseQuery) ImplementsDataqueryVariant() {}

// DataqueryType returns the plugin id.
func (ClickHouseQuery) DataqueryType() string { return ClickHousePluginID }

// Validate checks that the target is complete.
func (q ClickHouseQuery) Validate() error {
	switch {
	case q.RawSQL == "":
		return errors.New("dashboards: clickhouse query: empty rawSql")
	case q.PluginVersion == "":
		return errors.New("dashboards: clickhouse query: no pluginVersion")
	case q.Format != FormatTable && q.Format != FormatTimeSeries:
		return fmt.Errorf("dashboards: clickhouse query: unknown format %d", q.Format)
	case q.QueryType != q.Format.queryType():
		return fmt.Errorf("dashboards: clickhouse query: queryType %q does not match format %d", q.QueryType, q.Format)
	}
	return nil
}

// Equals reports whether other is the same target.
func (q ClickHouseQuery) Equals(other variants.Dataquery) bool {
	o, ok := other.(ClickHouseQuery)
	if !ok {
		return false
	}
	a, errA := json.Marshal(q)
	b, errB := json.Marshal(o)
	return errA == nil && errB == nil && string(a) == string(b)
}

// ClickHouseVariant lets the SDK's runtime decode ClickHouse targets back
// into ClickHouseQuery; register it with
// cog.NewRuntime().RegisterDataqueryVariant.
func ClickHouseVariant() variants.DataqueryConfig {
	decode := func(raw []byte) (variants.Dataquery, error) {
		var q ClickHouseQuery
		if err := json.Unmarshal(raw, &q); err != nil {
			return nil, fmt.Errorf("dashboards: clickhouse query: %w", err)
		}
		return q, nil
	}
	return variants.DataqueryConfig{
		Identifier:                 ClickHousePluginID,
		DataqueryUnmarshaler:       decode,
		StrictDataqueryUnmarshaler: decode,
	}
}

// ClickHouseQueryBuilder builds a ClickHouseQuery for a panel.
type ClickHouseQueryBuilder struct {
	q ClickHouseQuery
}

var _ cog.Builder[variants.Dataquery] = (*ClickHouseQueryBuilder)(nil)

// NewClickHouseQuery starts a target running sql on the datasource with uid,
// as a table; use Format to change that.
func NewClickHouseQuery(uid, sql string) *ClickHouseQueryBuilder {
	typ := ClickHousePluginID
	return &ClickHouseQueryBuilder{q: ClickHouseQuery{
		RefID: "A", Datasource: &common.DataSourceRef{Type: &typ, Uid: &uid},
		PluginVersion: ClickHousePluginVersion, EditorType: "sql", RawSQL: sql,
		Format: FormatTable, QueryType: FormatTable.queryType(),
	}}
}

// RefID sets the target's reference id.
func (b *ClickHouseQueryBuilder) RefID(id string) *ClickHouseQueryBuilder {
	b.q.RefID = id
	return b
}

// Format sets the result format (and the matching queryType).
func (b *ClickHouseQueryBuilder) Format(f Format) *ClickHouseQueryBuilder {
	b.q.Format, b.q.QueryType = f, f.queryType()
	return b
}

// Build returns the target, or why it is not valid.
func (b *ClickHouseQueryBuilder) Build() (variants.Dataquery, error) {
	if err := b.q.Validate(); err != nil {
		return nil, err
	}
	return b.q, nil
}
