package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/schemas/codes"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// lookupChunk bounds the number of keys in one IN (...) list.
const lookupChunk = 1000

// Store writes and reads the raw tables of one database. It is safe for
// concurrent use; concurrent inserts of incidents and of submission logs are
// group-committed (see InsertIncidents).
type Store struct {
	conn      driver.Conn
	db        string
	incidents *chdb.Group[incidentRow]
	logs      *chdb.Group[logEntry]
}

// New returns a Store for database, whose tables must already exist (see
// chdb.Migrate with schemas/migrations).
func New(conn driver.Conn, database string) *Store {
	s := &Store{conn: conn, db: database}
	s.incidents = chdb.NewGroup(0, nil, s.writeIncidentRows)
	s.logs = chdb.NewGroup(0, func(e logEntry) int { return 1 + len(e.rejections) }, s.writeLogs)
	return s
}

// Database returns the name of the raw database.
func (s *Store) Database() string { return s.db }

// IncidentRevisions returns the highest stored revision of each given
// incident_ref of a force. Refs the hub has never seen are absent.
//
// The refs travel as an external table (ClickHouse's external data), not as
// a literal IN list: a 1,000-ref list is 70 kB of SQL for the server to parse.
func (s *Store) IncidentRevisions(ctx context.Context, forceID string, refs []string) (map[string]uint32, error) {
	out := make(map[string]uint32, len(refs))
	if len(refs) == 0 {
		return out, nil
	}
	refsTable, err := ext.NewTable("refs", ext.Column("ref", "String"))
	if err != nil {
		return nil, fmt.Errorf("store: incident revisions: %w", err)
	}
	for _, r := range refs {
		if err := refsTable.Append(r); err != nil {
			return nil, fmt.Errorf("store: incident revisions: %w", err)
		}
	}
	ctx = chdb.WithExternal(ctx, refsTable)
	q := "SELECT incident_ref, max(revision) FROM " + s.db + ".incidents WHERE force_id = ? AND incident_ref IN refs GROUP BY incident_ref"
	if err := s.scanRevisions(ctx, q, out, forceID); err != nil {
		return nil, fmt.Errorf("store: incident revisions: %w", err)
	}
	return out, nil
}

// IncidentKey names one incident: a force and its reference. A trust's
// update to it is keyed the same way.
type IncidentKey struct {
	ForceID     string
	IncidentRef string
}

// HealthRevisions returns the highest stored revision of each given incident's
// update from a trust.
func (s *Store) HealthRevisions(ctx context.Context, trustID string, keys []IncidentKey) (map[IncidentKey]uint32, error) {
	out := make(map[IncidentKey]uint32, len(keys))
	byForce := map[string][]string{}
	for _, k := range keys {
		byForce[k.ForceID] = append(byForce[k.ForceID], k.IncidentRef)
	}
	q := "SELECT incident_ref, max(revision) FROM " + s.db + ".health_updates WHERE trust_id = ? AND force_id = ? AND incident_ref IN ? GROUP BY incident_ref"
	for force, refs := range byForce {
		for start := 0; start < len(refs); start += lookupChunk {
			chunk := refs[start:min(start+lookupChunk, len(refs))]
			revs := map[string]uint32{}
			if err := s.scanRevisions(ctx, q, revs, trustID, force, inList(chunk)); err != nil {
				return nil, fmt.Errorf("store: health revisions: %w", err)
			}
			for ref, rev := range revs {
				out[IncidentKey{ForceID: force, IncidentRef: ref}] = rev
			}
		}
	}
	return out, nil
}

// inList binds values as a parenthesised list for IN, bound on the client so
// the statement runs on every server version.
func inList(values []string) clickhouse.GroupSet {
	set := clickhouse.GroupSet{Value: make([]any, len(values))}
	for i, v := range values {
		set.Value[i] = v
	}
	return set
}

func (s *Store) scanRevisions(ctx context.Context, q string, out map[string]uint32, args ...any) error {
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var ref string
		var rev uint32
		if err := rows.Scan(&ref, &rev); err != nil {
			return err
		}
		out[ref] = rev
	}
	return rows.Err()
}

// Incident is one validated record to store, with what validation found.
type Incident struct {
	Record *pathwayv1.IncidentRecord
	// Breach is true when the detention outlasted its legal limit.
	Breach bool
}

// incidentColumns is the explicit column list of every incidents insert;
// appendIncident must append values in this order.
const incidentColumns = `force_id, incident_ref, revision, status, subject_token,
	incident_type, rcrp_category, rcrp_threshold, disposition,
	age_band, sex, ethnicity, ethnic_group,
	lad_code, region_code, first_pos_type, pos_ods_org, pos_ods_site,
	transfer_arrived, transfer_pos_type, transfer_pos_ods_org, transfer_pos_ods_site,
	hcp_consulted, consultee_role, consultation_channel,
	police_station_conditions_met, inspector_authorised, arrested_for_offence,
	conveyance_method, ambulance_requested, police_vehicle_reason,
	call_received, deployed, hcp_consulted_at, detained, ambulance_requested_at, ambulance_arrived,
	arrived_at_pos, handover_initiated, handover_accepted, police_left_pos,
	assessment_started, assessment_completed, detention_ended,
	extension_authorised, extension_hours, extension_superintendent_approved,
	presence_time, presence_actor, presence_action, presence_reason,
	outcome, detention_breach, submission_id, received_at, payload, revision_reason`

// incidentRow is one incident of a group insert with its batch's columns.
type incidentRow struct {
	Incident
	submissionID string
	receivedAt   time.Time
}

// InsertIncidents stores records. The force id of each record must already
// be the authenticated force's. Either every row is written or an error is
// returned.
//
// Concurrent calls are group-committed: the rows of batches that arrive while
// an insert is in flight go to ClickHouse together in the next insert, a
// single block of at most 20,000 rows (or one larger batch alone) that the
// server writes atomically (a batch is never split). A call returns once the
// insert carrying its rows has finished.
func (s *Store) InsertIncidents(ctx context.Context, submissionID string, receivedAt time.Time, rows []Incident) error {
	if len(rows) == 0 {
		return nil
	}
	return s.incidents.Do(ctx, incidentRows(submissionID, receivedAt, rows))
}

// incidentRows tags each record with its submission and receipt time.
func incidentRows(submissionID string, receivedAt time.Time, rows []Incident) []incidentRow {
	items := make([]incidentRow, len(rows))
	for i, r := range rows {
		items[i] = incidentRow{Incident: r, submissionID: submissionID, receivedAt: receivedAt}
	}
	return items
}

// WriteIncidents stores records in exactly one insert of its own, without
// group commit: for bulk loads that batch for themselves.
func (s *Store) WriteIncidents(ctx context.Context, submissionID string, receivedAt time.Time, rows []Incident) error {
	if len(rows) == 0 {
		return nil
	}
	return s.writeIncidentRows(ctx, incidentRows(submissionID, receivedAt, rows))
}

func (s *Store) writeIncidentRows(ctx context.Context, rows []incidentRow) error {
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.db+".incidents ("+incidentColumns+")")
	if err != nil {
		return fmt.Errorf("store: insert incidents: %w", err)
	}
	defer func() { _ = batch.Abort() }()
	for _, r := range rows {
		if err := appendIncident(batch, r.Incident, r.submissionID, r.receivedAt); err != nil {
			return fmt.Errorf("store: insert incidents: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("store: insert incidents: %w", err)
	}
	return nil
}

func appendIncident(batch driver.Batch, in Incident, submissionID string, receivedAt time.Time) error {
	rec := in.Record
	payload, err := proto.MarshalOptions{Deterministic: true}.Marshal(rec)
	if err != nil {
		return fmt.Errorf("marshal record: %w", err)
	}
	tl := rec.GetTimeline()
	var tArrived []time.Time
	var tType, tOrg, tSite []string
	for _, t := range rec.GetTransfers() {
		tArrived = append(tArrived, t.GetArrived().AsTime())
		tType = append(tType, codes.Of(t.GetPosType()))
		tOrg = append(tOrg, t.GetPosOdsOrg())
		tSite = append(tSite, t.GetPosOdsSite())
	}
	pTime, pActor, pAction, pReason := presenceColumns(rec.GetPresenceLog())
	eth := codes.Of(rec.GetEthnicity())
	ext := rec.GetExtension()
	return batch.Append(
		rec.GetForceId(), rec.GetIncidentRef(), rec.GetRevision(), codes.Of(rec.GetStatus()), rec.GetSubjectToken(),
		codes.Of(rec.GetIncidentType()), codes.Of(rec.GetRcrpCategory()), codes.Of(rec.GetRcrpThreshold()), codes.Of(rec.GetDisposition()),
		codes.Of(rec.GetAgeBand()), codes.Of(rec.GetSex()), eth, codes.EthnicGroup(eth),
		rec.GetLadCode(), rec.GetRegionCode(), codes.Of(rec.GetFirstPosType()), rec.GetPosOdsOrg(), rec.GetPosOdsSite(),
		nonNil(tArrived), nonNil(tType), nonNil(tOrg), nonNil(tSite),
		codes.Of(rec.GetHcpConsulted()), codes.Of(rec.GetConsulteeRole()), codes.Of(rec.GetConsultationChannel()),
		flag(rec.GetPoliceStationConditionsMet()), flag(rec.GetInspectorAuthorised()), flag(rec.GetArrestedForOffence()),
		codes.Of(rec.GetConveyanceMethod()), flag(rec.GetAmbulanceRequested()), codes.Of(rec.GetPoliceVehicleReason()),
		tl.GetCallReceived().AsTime(), at(tl.GetDeployed()), at(tl.GetHcpConsulted()), at(tl.GetDetained()),
		at(tl.GetAmbulanceRequested()), at(tl.GetAmbulanceArrived()),
		at(tl.GetArrivedAtPos()), at(tl.GetHandoverInitiated()), at(tl.GetHandoverAccepted()), at(tl.GetPoliceLeftPos()),
		at(tl.GetAssessmentStarted()), at(tl.GetAssessmentCompleted()), at(tl.GetDetentionEnded()),
		flag(ext.GetAuthorised()), uint8(ext.GetHours()), flag(ext.GetSuperintendentApproved()),
		pTime, pActor, pAction, pReason,
		codes.Of(rec.GetOutcome()), flag(in.Breach), submissionID, receivedAt.UTC(), string(payload),
		codes.Of(rec.GetRevisionReason()),
	)
}

// HealthUpdate is one validated health update to store.
type HealthUpdate struct {
	TrustID string
	Update  *pathwayv1.HealthUpdate
}

const healthColumns = `force_id, incident_ref, trust_id, revision, pos_ods_site,
	handover_accepted, assessment_started, assessment_completed, outcome,
	presence_time, presence_actor, presence_action, presence_reason,
	submission_id, received_at, payload`

// InsertHealthUpdates stores health updates in one insert.
func (s *Store) InsertHealthUpdates(ctx context.Context, submissionID string, receivedAt time.Time, rows []HealthUpdate) error {
	if len(rows) == 0 {
		return nil
	}
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.db+".health_updates ("+healthColumns+")")
	if err != nil {
		return fmt.Errorf("store: insert health updates: %w", err)
	}
	defer func() { _ = batch.Abort() }()
	for _, r := range rows {
		u := r.Update
		payload, err := proto.MarshalOptions{Deterministic: true}.Marshal(u)
		if err != nil {
			return fmt.Errorf("store: marshal health update: %w", err)
		}
		pTime, pActor, pAction, pReason := presenceColumns(u.GetPresenceRequests())
		if err := batch.Append(
			u.GetForceId(), u.GetIncidentRef(), r.TrustID, u.GetRevision(), u.GetPosOdsSite(),
			at(u.GetHandoverAccepted()), at(u.GetAssessmentStarted()), at(u.GetAssessmentCompleted()), codes.Of(u.GetOutcome()),
			pTime, pActor, pAction, pReason,
			submissionID, receivedAt.UTC(), string(payload),
		); err != nil {
			return fmt.Errorf("store: insert health updates: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("store: insert health updates: %w", err)
	}
	return nil
}

func presenceColumns(log []*pathwayv1.PresenceEntry) (times []time.Time, actors, actions, reasons []string) {
	times, actors, actions, reasons = []time.Time{}, []string{}, []string{}, []string{}
	for _, p := range log {
		times = append(times, p.GetTime().AsTime())
		actors = append(actors, codes.Of(p.GetActor()))
		actions = append(actions, codes.Of(p.GetAction()))
		reasons = append(reasons, codes.Of(p.GetReason()))
	}
	return times, actors, actions, reasons
}

// at converts an optional timestamp to a nullable DateTime value.
func at(ts *timestamppb.Timestamp) *time.Time {
	if ts == nil {
		return nil
	}
	t := ts.AsTime()
	return &t
}

func flag(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// IncidentPlaces returns, for each given incident the hub holds, the ODS
// organisations of its places of safety in its latest revision: the first
// one and any it was transferred to. The policy decides from these whether a
// trust may update the incident. Incidents the hub has never seen are absent.
func (s *Store) IncidentPlaces(ctx context.Context, keys []IncidentKey) (map[IncidentKey][]string, error) {
	out := make(map[IncidentKey][]string, len(keys))
	byForce := map[string][]string{}
	for _, k := range keys {
		byForce[k.ForceID] = append(byForce[k.ForceID], k.IncidentRef)
	}
	q := "SELECT incident_ref, argMax(pos_ods_org, revision), argMax(transfer_pos_ods_org, revision) FROM " + s.db +
		".incidents WHERE force_id = ? AND incident_ref IN ? GROUP BY incident_ref"
	for force, refs := range byForce {
		for start := 0; start < len(refs); start += lookupChunk {
			chunk := refs[start:min(start+lookupChunk, len(refs))]
			if err := s.scanPlaces(ctx, q, force, chunk, out); err != nil {
				return nil, fmt.Errorf("store: incident places: %w", err)
			}
		}
	}
	return out, nil
}

func (s *Store) scanPlaces(ctx context.Context, q, force string, refs []string, out map[IncidentKey][]string) error {
	rows, err := s.conn.Query(ctx, q, force, inList(refs))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var ref, first string
		var transfers []string
		if err := rows.Scan(&ref, &first, &transfers); err != nil {
			return err
		}
		places := make([]string, 0, 1+len(transfers))
		if first != "" {
			places = append(places, first)
		}
		for _, t := range transfers {
			if t != "" {
				places = append(places, t)
			}
		}
		out[IncidentKey{ForceID: force, IncidentRef: ref}] = places
	}
	return rows.Err()
}
