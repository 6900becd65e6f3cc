package validate

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// Codes of the pathway rules. Field-rule violations use protovalidate's rule id
// instead (e.g. "string.pattern", "enum.not_in", "required").
const (
	CodeUnknownField            = "unknown_field"
	CodeTimestampInvalid        = "timestamp.invalid"
	CodeTimestampSubsecond      = "timestamp.whole_seconds"
	CodeTimestampFuture         = "timestamp.future"
	CodeTimestampOutOfRange     = "timestamp.out_of_range"
	CodeTimestampOrder          = "timestamp.order"
	CodeRequiredForType         = "required_for_incident_type"
	CodeNotApplicable           = "not_applicable"
	CodePoliceStationUnder18    = "legal.police_station_under_18"
	CodePoliceStationConditions = "legal.police_station_conditions"
	CodeExtensionHours          = "legal.extension_hours"
	CodeExtensionSuperintendent = "legal.extension_superintendent"
	CodeDetentionBreach         = "detention_breach"
)

// EarliestTime is the earliest timestamp the hub stores: ClickHouse's
// DateTime counts seconds from 1970-01-01 00:00:00 UTC as an unsigned
// 32-bit number, and holds 0 as "no time". An earlier time would be stored
// as another (1900 as 2036), so a record with one is rejected instead.
// (The latest is bounded far tighter by the future-time rule.)
var EarliestTime = time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC)

// DetentionLimit is the s136 detention clock: 24 hours from arrival at the
// place of safety (Policing and Crime Act 2017 s.82), before any extension.
const DetentionLimit = 24 * time.Hour

// MaxExtensionHours is the longest extension a doctor may authorise (s136B).
const MaxExtensionHours = 12

// DefaultSkew is how far in the future a timestamp may lie, to allow for
// clocks that are slightly ahead.
const DefaultSkew = 5 * time.Minute

// Options configure a Validator.
type Options struct {
	// Skew is how far in the future a timestamp may lie. Zero means
	// DefaultSkew.
	Skew time.Duration
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// Validator checks records. It is safe for concurrent use.
type Validator struct {
	rules protovalidate.Validator
	skew  time.Duration
	now   func() time.Time
}

// Report is the outcome of checking one record. Errors reject the record;
// warnings are returned to the submitter but the record is stored.
type Report struct {
	Errors   []*pathwayv1.FieldViolation
	Warnings []*pathwayv1.FieldViolation
	// Breach is true when the detention lasted longer than 24 hours plus any
	// extension (reported as the warning CodeDetentionBreach).
	Breach bool
}

// OK reports whether the record has no errors.
func (r *Report) OK() bool { return len(r.Errors) == 0 }

func (r *Report) errorf(field, code, format string, args ...any) {
	r.Errors = append(r.Errors, &pathwayv1.FieldViolation{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (r *Report) warnf(field, code, format string, args ...any) {
	r.Warnings = append(r.Warnings, &pathwayv1.FieldViolation{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// New returns a Validator with the field rules of every pathway.v1 message
// compiled up front.
func New(opts Options) (*Validator, error) {
	rules, err := protovalidate.New(protovalidate.WithMessages(
		&pathwayv1.IncidentRecord{}, &pathwayv1.HealthUpdate{},
	))
	if err != nil {
		return nil, fmt.Errorf("validate: compile field rules: %w", err)
	}
	v := &Validator{rules: rules, skew: opts.Skew, now: opts.Now}
	if v.skew <= 0 {
		v.skew = DefaultSkew
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// Incident checks one incident record.
func (v *Validator) Incident(rec *pathwayv1.IncidentRecord) Report {
	var r Report
	checkUnknown(rec.ProtoReflect(), "", &r)
	v.fieldRules(rec, &r)
	tl := rec.GetTimeline()
	now := v.now()
	v.checkTimes(&r, now, incidentTimes(rec))
	if tl != nil {
		checkOrder(&r, tl)
		checkTransfersAndPresence(&r, rec)
	}
	checkKind(&r, rec)
	checkLegal(&r, rec)
	checkBreach(&r, rec)
	return r
}

// HealthUpdate checks one health update from an NHS trust.
func (v *Validator) HealthUpdate(u *pathwayv1.HealthUpdate) Report {
	var r Report
	checkUnknown(u.ProtoReflect(), "", &r)
	v.fieldRules(u, &r)
	v.checkTimes(&r, v.now(), healthTimes(u))
	after(&r, "assessment_started", u.GetAssessmentStarted(), "handover_accepted", u.GetHandoverAccepted())
	after(&r, "assessment_completed", u.GetAssessmentCompleted(), "assessment_started", u.GetAssessmentStarted())
	checkPresence(&r, "presence_requests", u.GetPresenceRequests())
	for i, p := range u.GetPresenceRequests() {
		if p.GetActor() != pathwayv1.PresenceActor_PRESENCE_ACTOR_NHS {
			r.errorf(fmt.Sprintf("presence_requests[%d].actor", i), CodeNotApplicable, "a trust's presence entries are its own: actor must be NHS")
		}
	}
	return r
}

// CodeSiteNotOwn is the code of a health update naming a place of safety
// that is not one of the submitting trust's sites (OwnSite).
const CodeSiteNotOwn = "pos_ods_site.not_own"

// OwnSite checks that site, an ODS site code, is one of trust's: a site
// code starts with its trust's code (RV3AA is a site of RV3). The trust's
// code comes from its credential.
func OwnSite(r *Report, trust, site string) {
	if site != "" && !strings.HasPrefix(site, trust) {
		r.errorf("pos_ods_site", CodeSiteNotOwn, "is not one of your sites: a site code of trust %s starts with %s", trust, trust)
	}
}

// fieldRules runs the rules declared in the proto.
func (v *Validator) fieldRules(msg proto.Message, r *Report) {
	err := v.rules.Validate(msg)
	if err == nil {
		return
	}
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		// A compilation or runtime error in the rules themselves: report it
		// against the whole record rather than accept it unchecked.
		r.errorf("", "rules.internal", "the record could not be checked: %v", err)
		return
	}
	for _, vio := range verr.Violations {
		field := protovalidate.FieldPathString(vio.Proto.GetField())
		r.errorf(field, vio.Proto.GetRuleId(), "%s", vio.Proto.GetMessage())
	}
}

// namedTime is a timestamp with its field path.
type namedTime struct {
	field string
	ts    *timestamppb.Timestamp
}

func incidentTimes(rec *pathwayv1.IncidentRecord) []namedTime {
	tl := rec.GetTimeline()
	out := []namedTime{
		{"timeline.call_received", tl.GetCallReceived()},
		{"timeline.deployed", tl.GetDeployed()},
		{"timeline.hcp_consulted", tl.GetHcpConsulted()},
		{"timeline.detained", tl.GetDetained()},
		{"timeline.ambulance_requested", tl.GetAmbulanceRequested()},
		{"timeline.ambulance_arrived", tl.GetAmbulanceArrived()},
		{"timeline.arrived_at_pos", tl.GetArrivedAtPos()},
		{"timeline.handover_initiated", tl.GetHandoverInitiated()},
		{"timeline.handover_accepted", tl.GetHandoverAccepted()},
		{"timeline.police_left_pos", tl.GetPoliceLeftPos()},
		{"timeline.assessment_started", tl.GetAssessmentStarted()},
		{"timeline.assessment_completed", tl.GetAssessmentCompleted()},
		{"timeline.detention_ended", tl.GetDetentionEnded()},
	}
	for i, t := range rec.GetTransfers() {
		out = append(out, namedTime{fmt.Sprintf("transfers[%d].arrived", i), t.GetArrived()})
	}
	for i, p := range rec.GetPresenceLog() {
		out = append(out, namedTime{fmt.Sprintf("presence_log[%d].time", i), p.GetTime()})
	}
	return out
}

func healthTimes(u *pathwayv1.HealthUpdate) []namedTime {
	out := []namedTime{
		{"handover_accepted", u.GetHandoverAccepted()},
		{"assessment_started", u.GetAssessmentStarted()},
		{"assessment_completed", u.GetAssessmentCompleted()},
	}
	for i, p := range u.GetPresenceRequests() {
		out = append(out, namedTime{fmt.Sprintf("presence_requests[%d].time", i), p.GetTime()})
	}
	return out
}

// checkTimes checks that every set timestamp is valid, whole seconds, and not
// in the future beyond the skew.
func (v *Validator) checkTimes(r *Report, now time.Time, times []namedTime) {
	limit := now.Add(v.skew)
	for _, nt := range times {
		if nt.ts == nil {
			continue
		}
		if err := nt.ts.CheckValid(); err != nil {
			r.errorf(nt.field, CodeTimestampInvalid, "not a valid timestamp")
			continue
		}
		if nt.ts.GetNanos() != 0 {
			r.errorf(nt.field, CodeTimestampSubsecond, "must be whole seconds: remove the fraction of a second")
		}
		if nt.ts.AsTime().After(limit) {
			r.errorf(nt.field, CodeTimestampFuture, "lies in the future by more than %s", v.skew)
		}
		if nt.ts.AsTime().Before(EarliestTime) {
			r.errorf(nt.field, CodeTimestampOutOfRange, "lies before %s, the earliest time the hub can store", EarliestTime.Format(time.RFC3339))
		}
	}
}

// pathwayOrder lists, for each timeline field, the fields it must not precede.
// It is the order described on the Timeline message in incident.proto.
var pathwayOrder = []struct {
	later, earlier string
	get            func(*pathwayv1.Timeline) (*timestamppb.Timestamp, *timestamppb.Timestamp)
}{
	{"timeline.deployed", "timeline.call_received", pair((*pathwayv1.Timeline).GetDeployed, (*pathwayv1.Timeline).GetCallReceived)},
	{"timeline.hcp_consulted", "timeline.call_received", pair((*pathwayv1.Timeline).GetHcpConsulted, (*pathwayv1.Timeline).GetCallReceived)},
	{"timeline.detained", "timeline.call_received", pair((*pathwayv1.Timeline).GetDetained, (*pathwayv1.Timeline).GetCallReceived)},
	{"timeline.ambulance_requested", "timeline.call_received", pair((*pathwayv1.Timeline).GetAmbulanceRequested, (*pathwayv1.Timeline).GetCallReceived)},
	{"timeline.ambulance_arrived", "timeline.ambulance_requested", pair((*pathwayv1.Timeline).GetAmbulanceArrived, (*pathwayv1.Timeline).GetAmbulanceRequested)},
	{"timeline.arrived_at_pos", "timeline.call_received", pair((*pathwayv1.Timeline).GetArrivedAtPos, (*pathwayv1.Timeline).GetCallReceived)},
	{"timeline.arrived_at_pos", "timeline.deployed", pair((*pathwayv1.Timeline).GetArrivedAtPos, (*pathwayv1.Timeline).GetDeployed)},
	{"timeline.arrived_at_pos", "timeline.detained", pair((*pathwayv1.Timeline).GetArrivedAtPos, (*pathwayv1.Timeline).GetDetained)},
	{"timeline.handover_initiated", "timeline.arrived_at_pos", pair((*pathwayv1.Timeline).GetHandoverInitiated, (*pathwayv1.Timeline).GetArrivedAtPos)},
	{"timeline.handover_accepted", "timeline.arrived_at_pos", pair((*pathwayv1.Timeline).GetHandoverAccepted, (*pathwayv1.Timeline).GetArrivedAtPos)},
	{"timeline.handover_accepted", "timeline.handover_initiated", pair((*pathwayv1.Timeline).GetHandoverAccepted, (*pathwayv1.Timeline).GetHandoverInitiated)},
	{"timeline.police_left_pos", "timeline.arrived_at_pos", pair((*pathwayv1.Timeline).GetPoliceLeftPos, (*pathwayv1.Timeline).GetArrivedAtPos)},
	{"timeline.assessment_started", "timeline.arrived_at_pos", pair((*pathwayv1.Timeline).GetAssessmentStarted, (*pathwayv1.Timeline).GetArrivedAtPos)},
	{"timeline.assessment_completed", "timeline.assessment_started", pair((*pathwayv1.Timeline).GetAssessmentCompleted, (*pathwayv1.Timeline).GetAssessmentStarted)},
	{"timeline.detention_ended", "timeline.arrived_at_pos", pair((*pathwayv1.Timeline).GetDetentionEnded, (*pathwayv1.Timeline).GetArrivedAtPos)},
	{"timeline.detention_ended", "timeline.detained", pair((*pathwayv1.Timeline).GetDetentionEnded, (*pathwayv1.Timeline).GetDetained)},
}

func pair(a, b func(*pathwayv1.Timeline) *timestamppb.Timestamp) func(*pathwayv1.Timeline) (*timestamppb.Timestamp, *timestamppb.Timestamp) {
	return func(tl *pathwayv1.Timeline) (*timestamppb.Timestamp, *timestamppb.Timestamp) { return a(tl), b(tl) }
}

func checkOrder(r *Report, tl *pathwayv1.Timeline) {
	for _, o := range pathwayOrder {
		later, earlier := o.get(tl)
		after(r, o.later, later, o.earlier, earlier)
	}
}

// after reports an error on laterField when both times are set and the later
// one comes first.
func after(r *Report, laterField string, later *timestamppb.Timestamp, earlierField string, earlier *timestamppb.Timestamp) {
	if later == nil || earlier == nil {
		return
	}
	if later.AsTime().Before(earlier.AsTime()) {
		r.errorf(laterField, CodeTimestampOrder, "must not be before %s", earlierField)
	}
}

func checkTransfersAndPresence(r *Report, rec *pathwayv1.IncidentRecord) {
	tl := rec.GetTimeline()
	prevField, prev := "timeline.arrived_at_pos", tl.GetArrivedAtPos()
	for i, t := range rec.GetTransfers() {
		field := fmt.Sprintf("transfers[%d].arrived", i)
		if tl.GetArrivedAtPos() == nil {
			r.errorf(field, CodeNotApplicable, "a transfer needs timeline.arrived_at_pos at the first place of safety")
		}
		after(r, field, t.GetArrived(), prevField, prev)
		prevField, prev = field, t.GetArrived()
	}
	checkPresence(r, "presence_log", rec.GetPresenceLog())
	for i, p := range rec.GetPresenceLog() {
		after(r, fmt.Sprintf("presence_log[%d].time", i), p.GetTime(), "timeline.call_received", tl.GetCallReceived())
	}
}

// checkPresence checks a presence log is in time order and that requests give
// a reason.
func checkPresence(r *Report, name string, log []*pathwayv1.PresenceEntry) {
	for i, p := range log {
		if p.GetAction() == pathwayv1.PresenceAction_PRESENCE_ACTION_REQUESTED &&
			p.GetReason() == pathwayv1.PresenceReason_PRESENCE_REASON_UNSPECIFIED {
			r.errorf(fmt.Sprintf("%s[%d].reason", name, i), "required", "a request for police presence must give a reason")
		}
		if i > 0 {
			after(r, fmt.Sprintf("%s[%d].time", name, i), p.GetTime(), fmt.Sprintf("%s[%d].time", name, i-1), log[i-1].GetTime())
		}
	}
}

// checkKind checks the fields that depend on the kind of incident and on the
// answers to earlier questions.
func checkKind(r *Report, rec *pathwayv1.IncidentRecord) {
	detention := isDetention(rec.GetIncidentType())
	if detention && rec.GetTimeline().GetDetained() == nil {
		r.errorf("timeline.detained", CodeRequiredForType, "a s136 or s135 detention must give the time of detention")
	}
	if rec.GetIncidentType() == pathwayv1.IncidentType_INCIDENT_TYPE_S136 &&
		rec.GetHcpConsulted() == pathwayv1.HcpConsulted_HCP_CONSULTED_UNSPECIFIED {
		r.errorf("hcp_consulted", CodeRequiredForType, "a s136 detention must say whether a health professional was consulted (send not_known if unknown)")
	}
	if rec.GetIncidentType() == pathwayv1.IncidentType_INCIDENT_TYPE_RCRP_CALL {
		if rec.GetRcrpCategory() == pathwayv1.RcrpCategory_RCRP_CATEGORY_UNSPECIFIED {
			r.errorf("rcrp_category", CodeRequiredForType, "an RCRP call must give its category")
		}
		if rec.GetDisposition() == pathwayv1.Disposition_DISPOSITION_UNSPECIFIED {
			r.errorf("disposition", CodeRequiredForType, "an RCRP call must give its disposition")
		}
	}
	if rec.GetHcpConsulted() != pathwayv1.HcpConsulted_HCP_CONSULTED_YES {
		if rec.GetConsulteeRole() != pathwayv1.ConsulteeRole_CONSULTEE_ROLE_UNSPECIFIED {
			r.errorf("consultee_role", CodeNotApplicable, "must be unset unless hcp_consulted is yes")
		}
		if rec.GetConsultationChannel() != pathwayv1.ConsultationChannel_CONSULTATION_CHANNEL_UNSPECIFIED {
			r.errorf("consultation_channel", CodeNotApplicable, "must be unset unless hcp_consulted is yes")
		}
		if rec.GetTimeline().GetHcpConsulted() != nil {
			r.errorf("timeline.hcp_consulted", CodeNotApplicable, "must be unset unless hcp_consulted is yes")
		}
	}
	police := rec.GetConveyanceMethod() == pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_POLICE_VEHICLE
	hasReason := rec.GetPoliceVehicleReason() != pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_UNSPECIFIED
	switch {
	case police && !hasReason:
		r.errorf("police_vehicle_reason", "required", "conveyance by police vehicle must give the reason (send not_known if unknown)")
	case !police && hasReason:
		r.errorf("police_vehicle_reason", CodeNotApplicable, "must be unset unless conveyance_method is police_vehicle")
	}
}

func isDetention(t pathwayv1.IncidentType) bool {
	switch t {
	case pathwayv1.IncidentType_INCIDENT_TYPE_S136,
		pathwayv1.IncidentType_INCIDENT_TYPE_S135_1,
		pathwayv1.IncidentType_INCIDENT_TYPE_S135_2:
		return true
	default:
		return false
	}
}

// usesPoliceStation reports whether the first place of safety, or any place
// the person was transferred to, is a police station.
func usesPoliceStation(rec *pathwayv1.IncidentRecord) (field string, ok bool) {
	if rec.GetFirstPosType() == pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_POLICE_STATION {
		return "first_pos_type", true
	}
	for i, t := range rec.GetTransfers() {
		if t.GetPosType() == pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_POLICE_STATION {
			return fmt.Sprintf("transfers[%d].pos_type", i), true
		}
	}
	return "", false
}

// checkLegal applies the legal checks of data-standard §4.
func checkLegal(r *Report, rec *pathwayv1.IncidentRecord) {
	if field, ok := usesPoliceStation(rec); ok {
		if rec.GetAgeBand() == pathwayv1.AgeBand_AGE_BAND_UNDER_18 {
			r.errorf(field, CodePoliceStationUnder18, "a police station may never be a place of safety for a person under 18 (Mental Health Act 1983 s136A)")
		}
		if !rec.GetPoliceStationConditionsMet() {
			r.errorf("police_station_conditions_met", CodePoliceStationConditions, "a police station may be a place of safety only when the conditions of SI 2017/1036 are met")
		}
		if !rec.GetInspectorAuthorised() {
			r.errorf("inspector_authorised", CodePoliceStationConditions, "a police station may be a place of safety only with an inspector's authorisation (SI 2017/1036)")
		}
	}
	ext := rec.GetExtension()
	if ext == nil {
		return
	}
	switch {
	case ext.GetHours() > MaxExtensionHours:
		// Already rejected by the field rule; no second message.
	case ext.GetAuthorised() && ext.GetHours() == 0:
		r.errorf("extension.hours", CodeExtensionHours, "an authorised extension must give its length, 1 to 12 hours")
	case !ext.GetAuthorised() && ext.GetHours() > 0:
		r.errorf("extension.authorised", CodeExtensionHours, "an extension with hours must be authorised by a doctor")
	}
	if _, ok := usesPoliceStation(rec); ok && ext.GetAuthorised() && !ext.GetSuperintendentApproved() {
		r.errorf("extension.superintendent_approved", CodeExtensionSuperintendent, "an extension at a police station needs a superintendent's approval (s136B)")
	}
}

// checkBreach flags a detention that lasted longer than the 24-hour clock plus
// any authorised extension. It is a warning: the record is stored.
func checkBreach(r *Report, rec *pathwayv1.IncidentRecord) {
	limit, ok := DetentionDeadline(rec)
	if !ok {
		return
	}
	ended := rec.GetTimeline().GetDetentionEnded()
	if ended == nil || !ended.AsTime().After(limit) {
		return
	}
	r.Breach = true
	r.warnf("timeline.detention_ended", CodeDetentionBreach, "the detention lasted longer than 24 hours plus any extension")
}

// DetentionDeadline returns when a detention's clock runs out: arrival at the
// place of safety plus 24 hours plus any authorised extension. ok is false for
// records that are not detentions or have not reached a place of safety.
func DetentionDeadline(rec *pathwayv1.IncidentRecord) (deadline time.Time, ok bool) {
	if !isDetention(rec.GetIncidentType()) {
		return time.Time{}, false
	}
	arrived := rec.GetTimeline().GetArrivedAtPos()
	if arrived == nil {
		return time.Time{}, false
	}
	limit := arrived.AsTime().Add(DetentionLimit)
	if ext := rec.GetExtension(); ext.GetAuthorised() && ext.GetHours() <= MaxExtensionHours {
		limit = limit.Add(time.Duration(ext.GetHours()) * time.Hour)
	}
	return limit, true
}
