package simulate

import (
	"fmt"
	"math"
	"time"

	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// Shorthands for the enum values the generator uses most.
const (
	typeS136 = pathwayv1.IncidentType_INCIDENT_TYPE_S136
	typeS135 = pathwayv1.IncidentType_INCIDENT_TYPE_S135_1
	typeRCRP = pathwayv1.IncidentType_INCIDENT_TYPE_RCRP_CALL

	posHBPoS    = pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_HBPOS
	posED       = pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_EMERGENCY_DEPARTMENT
	posStation  = pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_POLICE_STATION
	posHome     = pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_PRIVATE_HOME
	posOther    = pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_OTHER
	posNotKnown = pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_NOT_KNOWN

	byAmbulance    = pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_AMBULANCE
	byPolice       = pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_POLICE_VEHICLE
	byHealthOther  = pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_OTHER_HEALTH_VEHICLE
	byOther        = pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_OTHER
	alreadyThere   = pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_NONE_ALREADY_AT_POS
	byNotKnown     = pathwayv1.ConveyanceMethod_CONVEYANCE_METHOD_NOT_KNOWN
	secondsPerMin  = 60
	secondsPerHour = 3600
)

// minutes converts a duration in minutes to whole seconds, at least one
// minute, so that consecutive events never share a timestamp by accident.
func minutes(m float64) int64 {
	return max(secondsPerMin, int64(math.Round(m*secondsPerMin)))
}

// ramp maps a position in the period (0 to 1) to how far RCRP has bedded in
// (0 before go-live, 1 once fully in effect), along a smooth S-curve.
func ramp(pos float64) float64 {
	x := (pos - goLiveAt) / rampLength
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	default:
		return x * x * (3 - 2*x)
	}
}

// generator builds the incidents of one force from one random stream.
type generator struct {
	prof  *profile
	key   pseudo.Key
	r     rng
	areas []choice[area]
}

// newGenerator returns a generator for prof drawing from r.
func newGenerator(prof *profile, key pseudo.Key, r rng) *generator {
	g := &generator{prof: prof, key: key, r: r}
	for _, a := range prof.areas {
		g.areas = append(g.areas, choice[area]{a, a.weight})
	}
	return g
}

// newIncident generates one incident of the given kind whose call arrived at
// call, with the force's local incident number local, at RCRP progress x.
func (g *generator) newIncident(kind pathwayv1.IncidentType, call int64, local string, x float64) (*incident, error) {
	ref, err := g.key.IncidentRef(g.prof.id + ":" + local)
	if err != nil {
		return nil, fmt.Errorf("simulate: incident ref: %w", err)
	}
	inc := &incident{force: g.prof.id, ref: ref, kind: kind, area: pick(g.r, g.areas)}
	inc.t.call = call
	if err := g.identify(inc, local); err != nil {
		return nil, err
	}
	if kind == typeRCRP {
		g.rcrpCall(inc, x)
	} else {
		g.detention(inc, x)
	}
	ms := inc.milestones()
	inc.closeAt = ms[len(ms)-1]
	return inc, nil
}

// identify picks the person (none for some RCRP calls) and their token.
func (g *generator) identify(inc *incident, local string) error {
	if inc.kind == typeRCRP && g.r.chance(noSubjectShare) {
		inc.person = unknownPerson
		return nil
	}
	id := choosePerson(g.r, g.prof, local)
	token, err := g.key.SubjectToken(id)
	if err != nil {
		return fmt.Errorf("simulate: subject token: %w", err)
	}
	inc.subject, inc.person = token, traitsOf(id)
	return nil
}

// rcrpCall fills in a Right Care, Right Person call: no detention, no place
// of safety (first_pos_type OTHER and conveyance OTHER, as the proto asks for
// incidents without a place of safety).
func (g *generator) rcrpCall(inc *incident, x float64) {
	r := g.r
	inc.category = pick(r, rcrpCategoryWeights)
	inc.disposition = pick(r, []choice[pathwayv1.Disposition]{
		{pathwayv1.Disposition_DISPOSITION_POLICE_DEPLOYED, rcrpDeployed.at(x)},
		{pathwayv1.Disposition_DISPOSITION_REFERRED_TO_PARTNER, rcrpReferred.at(x)},
		{pathwayv1.Disposition_DISPOSITION_ADVICE_ONLY, rcrpAdviceOnly.at(x)},
		{pathwayv1.Disposition_DISPOSITION_NO_FURTHER_ACTION, rcrpNFA.at(x)},
	})
	inc.posType, inc.conveyance = posOther, byOther
	attended := inc.disposition == pathwayv1.Disposition_DISPOSITION_POLICE_DEPLOYED
	switch {
	case attended && r.chance(rcrpNotAssessedAttended.at(x)), !attended && r.chance(rcrpNotAssessedOther.at(x)):
		inc.threshold = pathwayv1.RcrpThreshold_RCRP_THRESHOLD_NOT_ASSESSED
	case !attended:
		inc.threshold = pathwayv1.RcrpThreshold_RCRP_THRESHOLD_NOT_MET
	case r.chance(rcrpCrimeShare):
		inc.threshold = pathwayv1.RcrpThreshold_RCRP_THRESHOLD_CRIME
		inc.arrested = r.chance(rcrpArrestShare)
	default:
		inc.threshold = pathwayv1.RcrpThreshold_RCRP_THRESHOLD_RISK_TO_LIFE_OR_SERIOUS_HARM
	}
	if attended {
		inc.t.deployed = inc.t.call + minutes(r.draw(rcrpDeploy))
		inc.closeAt = inc.t.deployed + minutes(r.draw(rcrpAttend))
	} else {
		inc.closeAt = inc.t.call + minutes(r.draw(rcrpResolve))
	}
	switch {
	case inc.arrested:
		inc.outcome = pathwayv1.Outcome_OUTCOME_ARRESTED
	case inc.subject == "":
		inc.outcome = pathwayv1.Outcome_OUTCOME_NOT_KNOWN
	default:
		inc.outcome = pathwayv1.Outcome_OUTCOME_OTHER
	}
}

// detention fills in a s136 or s135(1) detention, step by step along the
// pathway.
func (g *generator) detention(inc *incident, x float64) {
	inc.disposition = pathwayv1.Disposition_DISPOSITION_POLICE_DEPLOYED
	if inc.kind == typeS136 {
		// An s136 detention falls in the RCRP "s136 handover" phase.
		inc.category = pathwayv1.RcrpCategory_RCRP_CATEGORY_S136_HANDOVER
		inc.threshold = pathwayv1.RcrpThreshold_RCRP_THRESHOLD_RISK_TO_LIFE_OR_SERIOUS_HARM
		if g.r.chance(s136CrimeThresholdShare) {
			inc.threshold = pathwayv1.RcrpThreshold_RCRP_THRESHOLD_CRIME
		}
		inc.arrested = g.r.chance(s136ArrestShare)
		g.consult(inc, x)
	} else {
		// A planned s135(1) warrant: an AMHP and a doctor attend by law.
		inc.category = pathwayv1.RcrpCategory_RCRP_CATEGORY_OTHER
		inc.threshold = pathwayv1.RcrpThreshold_RCRP_THRESHOLD_NOT_ASSESSED
		inc.hcp = pathwayv1.HcpConsulted_HCP_CONSULTED_YES
		inc.role = pathwayv1.ConsulteeRole_CONSULTEE_ROLE_AMHP
		inc.channel = pathwayv1.ConsultationChannel_CONSULTATION_CHANNEL_OTHER
	}
	g.beforeDetention(inc)
	g.placeOfSafety(inc)
	g.convey(inc, x)
	g.atPlaceOfSafety(inc, x)
	g.assess(inc, x)
	inc.trustUpdate = inc.pos.org != "" && g.r.chance(healthUpdateShare)
	inc.trustAssessment = inc.trustUpdate && inc.transfer == nil
}

// consult records whether a health professional was consulted before a s136
// detention [MPS trend].
func (g *generator) consult(inc *incident, x float64) {
	r := g.r
	switch {
	case r.chance(hcpNotKnown.at(x)):
		inc.hcp = pathwayv1.HcpConsulted_HCP_CONSULTED_NOT_KNOWN
	case r.chance(g.prof.hcp.at(x)):
		inc.hcp = pathwayv1.HcpConsulted_HCP_CONSULTED_YES
		inc.role = pick(r, consulteeWeights)
		inc.channel = pick(r, channelWeights)
	default:
		inc.hcp = pick(r, hcpNoWeights)
	}
}

// beforeDetention sets deployment, consultation and detention times.
func (g *generator) beforeDetention(inc *incident) {
	r, t := g.r, &inc.t
	if inc.kind == typeS135 {
		t.deployed = t.call + minutes(r.draw(s135Deploy))
		t.hcp = t.deployed + minutes(r.in(s135AMHP))
		t.detained = t.hcp + minutes(r.draw(s135OnScene))
		return
	}
	t.deployed = t.call + minutes(r.draw(s136Deploy))
	onScene := r.draw(s136OnScene)
	t.detained = t.deployed + minutes(onScene)
	if inc.hcp == pathwayv1.HcpConsulted_HCP_CONSULTED_YES {
		t.hcp = min(t.deployed+minutes(onScene*r.in(s136Consult)), t.detained)
	}
}

// placeOfSafety chooses the first place of safety [HO shares]. A police
// station is used only for adults.
func (g *generator) placeOfSafety(inc *incident) {
	r := g.r
	if inc.kind == typeS135 {
		inc.posType = pick(r, s135PosWeights)
	} else {
		station := 0.0
		if inc.person.adult() {
			station = g.prof.policeStationWeight
		}
		inc.posType = pick(r, []choice[pathwayv1.PlaceOfSafetyType]{
			{posED, firstPosEDWeight},
			{posHBPoS, firstPosHBPoSWeight},
			{posStation, station},
			{posHome, firstPosPrivateHomeWeight},
			{posOther, firstPosOtherWeight},
			{posNotKnown, firstPosNotKnownWeight},
		})
	}
	switch inc.posType {
	case posHBPoS:
		inc.pos = inc.area.sector.hbpos
	case posED:
		inc.pos = inc.area.sector.ed
	default:
		// Police station, private home, other, not known: no ODS code.
	}
}

// convey chooses how the person reached the place of safety and sets the
// ambulance and arrival times [HO, MPS].
func (g *generator) convey(inc *incident, x float64) {
	r, t := g.r, &inc.t
	ambulance := g.prof.ambulance.at(x)
	if inc.kind == typeS135 {
		ambulance = s135AmbulanceShare
	}
	switch {
	case inc.kind == typeS136 && inc.posType == posED && r.chance(conveyanceNoneAtEDShare):
		inc.conveyance = alreadyThere
	case r.chance(conveyanceNotKnown.at(x)):
		inc.conveyance = byNotKnown
	default:
		inc.conveyance = pick(r, []choice[pathwayv1.ConveyanceMethod]{
			{byAmbulance, ambulance},
			{byHealthOther, otherHealthVehicleShare},
			{byOther, otherMeansShare},
			{byPolice, max(0, 1-ambulance-otherHealthVehicleShare-otherMeansShare)},
		})
	}
	if inc.conveyance == byPolice {
		inc.vehicleReason = pick(r, vehicleReasonWeights)
	}
	wait := func() int64 { return minutes(r.draw(ambulanceWait.withMedian(ambulanceWaitMedianMin.at(x)))) }
	journey := minutes(r.draw(travel))
	request := func() { t.ambulanceRequested = t.detained + minutes(r.in(ambulanceRequest)) }
	switch {
	case inc.conveyance == alreadyThere:
		t.arrived = t.detained
	case inc.conveyance == byAmbulance,
		inc.vehicleReason == pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_AMBULANCE_CREW_REFUSED:
		request()
		t.ambulanceArrived = t.ambulanceRequested + wait()
		t.arrived = t.ambulanceArrived + minutes(r.in(ambulanceLoading)) + journey
	case inc.vehicleReason == pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_AMBULANCE_NOT_AVAILABLE_30MIN:
		request()
		t.arrived = t.ambulanceRequested + minutes(r.in(ambulanceGiveUp)) + journey
	case inc.vehicleReason == pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_AMBULANCE_DIVERTED:
		request()
		t.arrived = t.ambulanceRequested + minutes(r.in(ambulanceDiverts)) + journey
	case inc.conveyance == byPolice:
		t.arrived = t.detained + minutes(r.in(policeDeparts)) + journey
	default:
		t.arrived = t.detained + minutes(r.in(otherDeparts)) + journey
	}
}

// atPlaceOfSafety sets the handover, the officers' time at the place of
// safety [BTP trend] and any request for them to stay.
func (g *generator) atPlaceOfSafety(inc *incident, x float64) {
	r, t := g.r, &inc.t
	if inc.posType == posStation {
		return // officers stay until the detention ends (assess)
	}
	officer := r.draw(officerTime.withMedian(g.prof.officerMin.at(x)))
	left := t.arrived + minutes(officer)
	if inc.pos.org == "" {
		// Private home, other or not known: no NHS handover to record.
		t.policeLeft = left
		return
	}
	t.handoverInitiated = t.arrived + minutes(r.in(handoverStart))
	t.handoverAccepted = max(t.arrived+minutes(officer*r.in(handoverAt)), t.handoverInitiated+secondsPerMin)
	left = max(left, t.handoverAccepted+secondsPerMin)
	t.policeLeft = g.presenceRequest(inc, x, left)
}

// presenceRequest may add an NHS request for officers to stay, the police
// answer and their leaving; it returns when the officers left.
func (g *generator) presenceRequest(inc *incident, x float64, left int64) int64 {
	r := g.r
	if !r.chance(presenceRequestShare.at(x)) {
		return left
	}
	reason := pick(r, presenceReasonWeights)
	from := inc.t.handoverInitiated
	asked := from + int64(float64(left-from)*r.in(presenceAsked))
	answered := asked + minutes(r.in(presenceAnswer))
	accept := r.chance(presenceAcceptShare.at(x))
	if reason == pathwayv1.PresenceReason_PRESENCE_REASON_RISK_TO_LIFE_OR_SERIOUS_HARM {
		accept = r.chance(presenceRiskAcceptShare)
	}
	answer := pathwayv1.PresenceAction_PRESENCE_ACTION_DECLINED
	if accept {
		answer = pathwayv1.PresenceAction_PRESENCE_ACTION_ACCEPTED
		left = max(left, answered) + minutes(r.draw(presenceStay))
	} else {
		left = max(left, answered+minutes(r.in(presenceLeave)))
	}
	inc.presence = []presence{
		{asked, pathwayv1.PresenceActor_PRESENCE_ACTOR_NHS, pathwayv1.PresenceAction_PRESENCE_ACTION_REQUESTED, reason},
		{answered, pathwayv1.PresenceActor_PRESENCE_ACTOR_POLICE, answer, pathwayv1.PresenceReason_PRESENCE_REASON_UNSPECIFIED},
		{left, pathwayv1.PresenceActor_PRESENCE_ACTOR_POLICE, pathwayv1.PresenceAction_PRESENCE_ACTION_LEFT, pathwayv1.PresenceReason_PRESENCE_REASON_UNSPECIFIED},
	}
	return left
}

// assess sets the Mental Health Act assessment, the end of the detention,
// any extension or breach, the outcome and any transfer.
func (g *generator) assess(inc *incident, x float64) {
	r, t := g.r, &inc.t
	delay := minutes(r.draw(assessmentDelay.withMedian(assessmentDelayMedianMin.at(x))))
	t.assessmentStarted = t.arrived + delay
	if t.handoverAccepted != 0 {
		// The trust assesses only once it has accepted the person.
		t.assessmentStarted = max(t.assessmentStarted, t.handoverAccepted+minutes(r.in(afterHandover)))
	}
	t.assessmentCompleted = t.assessmentStarted + minutes(r.draw(assessment))
	inc.outcome = pick(r, outcomeWeights)
	if inc.outcome == pathwayv1.Outcome_OUTCOME_ARRESTED {
		inc.arrested = true
	}
	after := afterAssessment
	if admitted(inc.outcome) {
		after = afterAdmission
	}
	t.ended = max(t.assessmentCompleted+minutes(r.draw(after)), t.policeLeft)
	clock := t.arrived + detentionClockHours*secondsPerHour
	switch {
	case r.chance(extensionShare):
		inc.extensionHours = uint32(1 + r.IntN(maxExtensionHours))
		t.ended = max(t.ended, clock+minutes(r.in(interval{10, float64(inc.extensionHours)*60 - 10})))
	case r.chance(breachShare):
		t.ended = max(t.ended, clock+minutes(r.in(breachOverrun)))
	}
	if inc.posType == posStation {
		t.policeLeft = t.ended
	}
	inc.closeAt = t.ended
	if inc.posType == posED && r.chance(transferShare) && delay > 3*secondsPerHour {
		inc.transfer = &transfer{
			at:      t.arrived + int64(float64(delay)*r.in(transferAt)),
			posType: posHBPoS,
			pos:     inc.area.sector.hbpos,
		}
	}
}

// admitted reports whether the outcome is an admission.
func admitted(o pathwayv1.Outcome) bool {
	switch o {
	case pathwayv1.Outcome_OUTCOME_ADMITTED_S2, pathwayv1.Outcome_OUTCOME_ADMITTED_S3,
		pathwayv1.Outcome_OUTCOME_INFORMAL_ADMISSION:
		return true
	default:
		return false
	}
}

// dayCall is one incident's call time and kind.
type dayCall struct {
	at   int64
	kind pathwayv1.IncidentType
}

// dayCalls draws the calls of the UTC day starting at day, at RCRP progress
// x, with volumes multiplied by scale.
func (g *generator) dayCalls(day time.Time, x, scale float64) []dayCall {
	factor := scale * seasonal(day) * weekdayFactor[day.Weekday()] / daysPerYear
	s136 := g.prof.s136PerYear * (1 - g.prof.s136Fall*x)
	var calls []dayCall
	for _, k := range []struct {
		kind     pathwayv1.IncidentType
		perYear  float64
		business bool
	}{
		{typeS136, s136, false},
		{typeS135, g.prof.s135PerYear, true},
		{typeRCRP, g.prof.rcrpPerYear, false},
	} {
		for range g.r.poisson(k.perYear * factor) {
			calls = append(calls, dayCall{at: day.Unix() + g.timeOfDay(k.business), kind: k.kind})
		}
	}
	return calls
}

// timeOfDay draws seconds after midnight: by hourWeights, or within office
// hours (9:00 to 16:00) for planned s135 warrants.
func (g *generator) timeOfDay(business bool) int64 {
	if business {
		return int64(g.r.in(s135CallHour) * secondsPerHour)
	}
	return int64(pickIndex(g.r, hourWeights))*secondsPerHour + g.r.Int64N(secondsPerHour)
}

// seasonal is the seasonal volume factor for a day, peaking in July.
func seasonal(day time.Time) float64 {
	peak := float64(peakMonth-1)*30.4 + 15 // mid-July, as a day of the year
	angle := 2 * math.Pi * (float64(day.YearDay()) - peak) / daysPerYear
	return 1 + seasonalAmplitude*math.Cos(angle)
}
