package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/ext"

	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
)

// OpenIncident is what the live monitor (hub/publish/monitor) needs of one
// open incident: its latest revision, with the health side merged in where
// the force has not recorded it. A zero time means the event has not
// happened (or is not yet known).
type OpenIncident struct {
	ForceID      string
	IncidentRef  string
	Status       string // "open", "closed" or "withdrawn"
	IncidentType string // "s136", "s135_1", "s135_2" or "rcrp_call"
	LADCode      string
	FirstPosType string

	ArrivedAtPos        time.Time
	Detained            time.Time
	AmbulanceRequested  time.Time
	AmbulanceArrived    time.Time
	HandoverAccepted    time.Time
	AssessmentStarted   time.Time
	AssessmentCompleted time.Time
	PoliceLeftPos       time.Time
	DetentionEnded      time.Time

	// ExtensionHours is the authorised extension of the detention clock
	// (s136B), 0 to 12; zero when none was authorised.
	ExtensionHours int
	// LastUpdate is when the hub received the incident's latest revision.
	LastUpdate time.Time
}

// OpenIncidents returns each incident whose highest revision
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
//
// The returned incidents' times are in UTC.
func (s *Store) OpenIncidents(ctx context.Context) ([]OpenIncident, error) {
	return s.readIncidents(ctx, "status = 'open'", "1")
}

// Incidents returns the latest revision of each of the given incidents the
// hub holds, whatever its status, read as OpenIncidents reads: what the live
// monitor needs to update its state after a batch. Incidents the hub does
// not hold are absent. Each read touches only the keys' parts of the tables
// (the tables are ordered by force and reference).
func (s *Store) Incidents(ctx context.Context, keys []IncidentKey) ([]OpenIncident, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	ctx, err := withKeys(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("store: incidents: %w", err)
	}
	return s.readIncidents(ctx, inKeys, inKeys)
}

// readIncidents runs incidentsQuery.
func (s *Store) readIncidents(ctx context.Context, incidents, health string) ([]OpenIncident, error) {
	rows, err := s.conn.Query(ctx, incidentsQuery(s.db, incidents, health))
	if err != nil {
		return nil, fmt.Errorf("store: open incidents: %w", err)
	}
	defer rows.Close()
	var out []OpenIncident
	for rows.Next() {
		var (
			inc                                                      OpenIncident
			arrived, detained, ambReq, ambArr, handover, assessStart *time.Time
			assessDone, left, ended                                  *time.Time
			extension                                                uint8
		)
		if err := rows.Scan(&inc.ForceID, &inc.IncidentRef, &inc.Status, &inc.IncidentType, &inc.LADCode, &inc.FirstPosType,
			&arrived, &detained, &ambReq, &ambArr, &handover, &assessStart, &assessDone, &left, &ended,
			&extension, &inc.LastUpdate); err != nil {
			return nil, fmt.Errorf("store: open incidents: %w", err)
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
		return nil, fmt.Errorf("store: open incidents: %w", err)
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

// incidentsQuery is the statement OpenIncidents and Incidents run on the raw
// database db: the incidents whose latest revision meets the condition
// incidents, with the times of the health updates that meet health (a
// condition on the keys only, as FINAL needs).
func incidentsQuery(db, incidents, health string) string {
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
    WHERE ` + incidents + `
) AS i
ANY LEFT JOIN (
    SELECT force_id, incident_ref,
        min(handover_accepted) AS h_handover_accepted,
        min(assessment_started) AS h_assessment_started,
        min(assessment_completed) AS h_assessment_completed
    FROM ` + db + `.health_updates FINAL
    WHERE ` + health + `
    GROUP BY force_id, incident_ref
) AS h USING (force_id, incident_ref)
ORDER BY force_id, incident_ref`
}

// inKeys is the condition that keeps the rows of the incidents withKeys
// sent.
const inKeys = "(force_id, incident_ref) IN (SELECT force_id, incident_ref FROM keys)"

// withKeys sends keys with the next statement run under the returned
// context, as the external table keys (force_id, incident_ref).
func withKeys(ctx context.Context, keys []IncidentKey) (context.Context, error) {
	t, err := ext.NewTable("keys", ext.Column("force_id", "String"), ext.Column("incident_ref", "String"))
	if err != nil {
		return ctx, err
	}
	for _, k := range keys {
		if err := t.Append(k.ForceID, k.IncidentRef); err != nil {
			return ctx, err
		}
	}
	return chdb.WithExternal(ctx, t), nil
}
