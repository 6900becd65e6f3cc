package monitor

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// clickHouseSource reads open incidents from the raw tables.
type clickHouseSource struct {
	conn  driver.Conn
	query string
}

// NewClickHouseSource returns a Source that reads the raw database db (a
// name that passed sqltext.ValidIdent, holding the tables of
// schemas/migrations). It returns each incident whose highest revision
// (incidents FINAL) has status "open". Where the force's record has no
// handover accepted or assessment times, they come from the trusts' health
// updates, each trust at its highest revision; with several trusts, the
// earliest time wins, since the first trust to accept the person ended the
// police handover. LastUpdate is the received_at of the force's latest
// revision. ExtensionHours counts only an authorised extension.
//
// The query runs on ClickHouse 18.16 and on current releases: FINAL on the
// ReplacingMergeTree tables, ANY LEFT JOIN ... USING between aliased
// subqueries (current releases require the aliases), no window functions.
func NewClickHouseSource(conn driver.Conn, db string) Source {
	return &clickHouseSource{conn: conn, query: openIncidentsQuery(db)}
}

func openIncidentsQuery(db string) string {
	return `SELECT force_id, incident_ref, status, incident_type, lad_code, first_pos_type,
    arrived_at_pos, detained, ambulance_requested_at, ambulance_arrived,
    ifNull(handover_accepted, h_handover_accepted),
    ifNull(assessment_started, h_assessment_started),
    ifNull(assessment_completed, h_assessment_completed),
    police_left_pos, detention_ended, extension, received_at
FROM (
    SELECT force_id, incident_ref, status, incident_type, lad_code, first_pos_type,
        arrived_at_pos, detained, ambulance_requested_at, ambulance_arrived,
        handover_accepted, assessment_started, assessment_completed,
        police_left_pos, detention_ended,
        toUInt8(if(extension_authorised = 1, extension_hours, 0)) AS extension,
        received_at
    FROM ` + db + `.incidents FINAL
    WHERE status = 'open'
) AS i
ANY LEFT JOIN (
    SELECT force_id, incident_ref,
        min(handover_accepted) AS h_handover_accepted,
        min(assessment_started) AS h_assessment_started,
        min(assessment_completed) AS h_assessment_completed
    FROM ` + db + `.health_updates FINAL
    GROUP BY force_id, incident_ref
) AS h USING (force_id, incident_ref)
ORDER BY force_id, incident_ref`
}

// OpenIncidents runs the query and returns one Incident per open incident,
// with times in UTC.
func (s *clickHouseSource) OpenIncidents(ctx context.Context) ([]Incident, error) {
	rows, err := s.conn.Query(ctx, s.query)
	if err != nil {
		return nil, fmt.Errorf("monitor: open incidents: %w", err)
	}
	defer rows.Close()
	var out []Incident
	for rows.Next() {
		var (
			inc                                                      Incident
			arrived, detained, ambReq, ambArr, handover, assessStart *time.Time
			assessDone, left, ended                                  *time.Time
			extension                                                uint8
		)
		if err := rows.Scan(&inc.ForceID, &inc.IncidentRef, &inc.Status, &inc.IncidentType, &inc.LADCode, &inc.FirstPosType,
			&arrived, &detained, &ambReq, &ambArr, &handover, &assessStart, &assessDone, &left, &ended,
			&extension, &inc.LastUpdate); err != nil {
			return nil, fmt.Errorf("monitor: open incidents: %w", err)
		}
		inc.ArrivedAtPos, inc.Detained = utc(arrived), utc(detained)
		inc.AmbulanceRequested, inc.AmbulanceArrived = utc(ambReq), utc(ambArr)
		inc.HandoverAccepted, inc.AssessmentStarted, inc.AssessmentCompleted = utc(handover), utc(assessStart), utc(assessDone)
		inc.PoliceLeftPos, inc.DetentionEnded = utc(left), utc(ended)
		inc.ExtensionHours = int(extension)
		inc.LastUpdate = inc.LastUpdate.UTC()
		out = append(out, inc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("monitor: open incidents: %w", err)
	}
	return out, nil
}

// utc converts a nullable DateTime to UTC, NULL to the zero time.
func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
