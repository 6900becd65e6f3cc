package simulate

import (
	"slices"

	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// times are an incident's pathway timestamps in Unix seconds (UTC, whole
// seconds by construction); 0 means the event did not happen.
type times struct {
	call, deployed, hcp, detained                int64
	ambulanceRequested, ambulanceArrived         int64
	arrived, handoverInitiated, handoverAccepted int64
	policeLeft, assessmentStarted                int64
	assessmentCompleted, ended                   int64
}

// list returns every timestamp, set or not.
func (t *times) list() []int64 {
	return []int64{
		t.call, t.deployed, t.hcp, t.detained, t.ambulanceRequested, t.ambulanceArrived,
		t.arrived, t.handoverInitiated, t.handoverAccepted, t.policeLeft,
		t.assessmentStarted, t.assessmentCompleted, t.ended,
	}
}

// stamp returns s as a Timestamp if it happened by at, else nil.
func stamp(s, at int64) *timestamppb.Timestamp {
	if s == 0 || s > at {
		return nil
	}
	return &timestamppb.Timestamp{Seconds: s}
}

// timeline returns the proto Timeline with the events that happened by at.
func (t *times) timeline(at int64) *pathwayv1.Timeline {
	return &pathwayv1.Timeline{
		CallReceived:        stamp(t.call, at),
		Deployed:            stamp(t.deployed, at),
		HcpConsulted:        stamp(t.hcp, at),
		Detained:            stamp(t.detained, at),
		AmbulanceRequested:  stamp(t.ambulanceRequested, at),
		AmbulanceArrived:    stamp(t.ambulanceArrived, at),
		ArrivedAtPos:        stamp(t.arrived, at),
		HandoverInitiated:   stamp(t.handoverInitiated, at),
		HandoverAccepted:    stamp(t.handoverAccepted, at),
		PoliceLeftPos:       stamp(t.policeLeft, at),
		AssessmentStarted:   stamp(t.assessmentStarted, at),
		AssessmentCompleted: stamp(t.assessmentCompleted, at),
		DetentionEnded:      stamp(t.ended, at),
	}
}

// presence is one entry of the police-presence log.
type presence struct {
	at     int64
	actor  pathwayv1.PresenceActor
	action pathwayv1.PresenceAction
	reason pathwayv1.PresenceReason
}

// proto returns the entry as a PresenceEntry.
func (p presence) proto() *pathwayv1.PresenceEntry {
	return &pathwayv1.PresenceEntry{
		Time:   &timestamppb.Timestamp{Seconds: p.at},
		Actor:  p.actor,
		Action: p.action,
		Reason: p.reason,
	}
}

// fromNHS reports whether the NHS made the entry.
func (p presence) fromNHS() bool { return p.actor == pathwayv1.PresenceActor_PRESENCE_ACTOR_NHS }

// transfer is a move to a second place of safety.
type transfer struct {
	at      int64
	posType pathwayv1.PlaceOfSafetyType
	pos     site
}

// incident is everything about one simulated incident, from which the
// force's snapshot at any moment (and the trust's) can be built.
type incident struct {
	force, ref, subject string
	kind                pathwayv1.IncidentType
	category            pathwayv1.RcrpCategory
	threshold           pathwayv1.RcrpThreshold
	disposition         pathwayv1.Disposition
	person              traits
	area                area

	posType  pathwayv1.PlaceOfSafetyType
	pos      site // empty unless an NHS place of safety
	transfer *transfer

	hcp      pathwayv1.HcpConsulted
	role     pathwayv1.ConsulteeRole
	channel  pathwayv1.ConsultationChannel
	arrested bool

	conveyance    pathwayv1.ConveyanceMethod
	vehicleReason pathwayv1.PoliceVehicleReason

	t              times
	extensionHours uint32 // 0: no extension
	presence       []presence
	outcome        pathwayv1.Outcome
	// closeAt is when the incident closes: the end of the detention, or the
	// end of police involvement in an RCRP call.
	closeAt int64

	// trustUpdate: the trust of the first place of safety sends a health
	// update; trustAssessment: it includes the assessment and outcome (not
	// when the person was moved to another place of safety first).
	trustUpdate     bool
	trustAssessment bool
}

// detention reports whether the incident is a s136 or s135 detention.
func (inc *incident) detention() bool {
	return inc.kind != pathwayv1.IncidentType_INCIDENT_TYPE_RCRP_CALL
}

// openAt is when the force opens its record: the detention for s136 and
// s135, the call for an RCRP call.
func (inc *incident) openAt() int64 {
	if inc.detention() {
		return inc.t.detained
	}
	return inc.t.call
}

// milestones are the moments at which the force sends a new snapshot, in
// order: the opening, every later event, and the close. Their count is the
// revision of the final snapshot.
func (inc *incident) milestones() []int64 {
	open := inc.openAt()
	ms := []int64{open, inc.closeAt}
	for _, s := range inc.t.list() {
		if s > open {
			ms = append(ms, s)
		}
	}
	for _, p := range inc.presence {
		if p.at > open {
			ms = append(ms, p.at)
		}
	}
	if inc.transfer != nil {
		ms = append(ms, inc.transfer.at)
	}
	slices.Sort(ms)
	return slices.Compact(ms)
}

// record returns the force's snapshot at moment at, with the given revision.
// At or after closeAt it is the final, CLOSED snapshot.
func (inc *incident) record(at int64, revision uint32) *pathwayv1.IncidentRecord {
	final := at >= inc.closeAt
	rec := &pathwayv1.IncidentRecord{
		SchemaVersion:       1,
		ForceId:             inc.force,
		IncidentRef:         inc.ref,
		Revision:            revision,
		Status:              pathwayv1.IncidentStatus_INCIDENT_STATUS_OPEN,
		SubjectToken:        inc.subject,
		IncidentType:        inc.kind,
		RcrpCategory:        inc.category,
		RcrpThreshold:       inc.threshold,
		Disposition:         inc.disposition,
		AgeBand:             inc.person.age,
		Sex:                 inc.person.sex,
		Ethnicity:           inc.person.ethnicity,
		LadCode:             inc.area.lad,
		RegionCode:          inc.area.region,
		HcpConsulted:        inc.hcp,
		ConsulteeRole:       inc.role,
		ConsultationChannel: inc.channel,
		ArrestedForOffence:  inc.arrested && (final || inc.outcome != pathwayv1.Outcome_OUTCOME_ARRESTED),
		AmbulanceRequested:  inc.t.ambulanceRequested != 0 && inc.t.ambulanceRequested <= at,
		Timeline:            inc.t.timeline(at),
	}
	inc.placeFields(rec, at)
	for _, p := range inc.presence {
		if p.at <= at {
			rec.PresenceLog = append(rec.PresenceLog, p.proto())
		}
	}
	if final {
		rec.Status = pathwayv1.IncidentStatus_INCIDENT_STATUS_CLOSED
		rec.Outcome = inc.outcome
		if inc.extensionHours > 0 {
			rec.Extension = &pathwayv1.Extension{
				Authorised:             true,
				Hours:                  inc.extensionHours,
				SuperintendentApproved: inc.posType == pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_POLICE_STATION,
			}
		}
	}
	return rec
}

// placeFields fills the place of safety and conveyance of rec as known at
// moment at: before a detained person reaches the place of safety, both are
// not yet known.
func (inc *incident) placeFields(rec *pathwayv1.IncidentRecord, at int64) {
	if inc.detention() && inc.t.arrived > at {
		rec.FirstPosType = pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_NOT_KNOWN
		rec.ConveyanceMethod = pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_NOT_KNOWN
		return
	}
	rec.FirstPosType = inc.posType
	rec.PosOdsOrg = inc.pos.org
	rec.PosOdsSite = inc.pos.site
	rec.ConveyanceMethod = inc.conveyance
	rec.PoliceVehicleReason = inc.vehicleReason
	if inc.posType == pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_POLICE_STATION {
		rec.PoliceStationConditionsMet = true
		rec.InspectorAuthorised = true
	}
	if tr := inc.transfer; tr != nil && tr.at <= at {
		rec.Transfers = []*pathwayv1.PosTransfer{{
			Arrived:    &timestamppb.Timestamp{Seconds: tr.at},
			PosType:    tr.posType,
			PosOdsOrg:  tr.pos.org,
			PosOdsSite: tr.pos.site,
		}}
	}
}

// healthMilestones are the moments at which the trust sends a new health
// update: handover accepted, its presence requests, and (when it assessed
// the person) assessment start and completion. Nil when the trust sends
// nothing.
func (inc *incident) healthMilestones() []int64 {
	if !inc.trustUpdate {
		return nil
	}
	ms := []int64{inc.t.handoverAccepted}
	if inc.trustAssessment {
		ms = append(ms, inc.t.assessmentStarted, inc.t.assessmentCompleted)
	}
	for _, p := range inc.presence {
		if p.fromNHS() {
			ms = append(ms, p.at)
		}
	}
	slices.Sort(ms)
	return slices.Compact(ms)
}

// healthUpdate returns the trust's update as known at moment at; the final
// one (at its last milestone or later) carries the outcome.
func (inc *incident) healthUpdate(at int64, revision uint32) *pathwayv1.HealthUpdate {
	ms := inc.healthMilestones()
	u := &pathwayv1.HealthUpdate{
		SchemaVersion:    1,
		ForceId:          inc.force,
		IncidentRef:      inc.ref,
		Revision:         revision,
		PosOdsSite:       inc.pos.site,
		HandoverAccepted: stamp(inc.t.handoverAccepted, at),
	}
	if inc.trustAssessment {
		u.AssessmentStarted = stamp(inc.t.assessmentStarted, at)
		u.AssessmentCompleted = stamp(inc.t.assessmentCompleted, at)
		if at >= ms[len(ms)-1] {
			u.Outcome = inc.outcome
		}
	}
	for _, p := range inc.presence {
		if p.fromNHS() && p.at <= at {
			u.PresenceRequests = append(u.PresenceRequests, p.proto())
		}
	}
	return u
}
