package simulate

import pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"

// Calibration.
//
// Sources (shared/design/data-standard.md §1; the article figures there are
// "not independently verified; use them only to calibrate synthetic data"):
//
//   - [HO] Home Office "Police powers and procedures" s136 returns, 2024/25 secondary
//     summaries: ED first place of safety 48%, mental-health place of safety 44%;
//     conveyance by ambulance 39%, police vehicle 49%, about 7% not recorded;
//     national totals 34,685 (2022/23) → 31,779 (2024/25).
//   - [MPS] Metropolitan Police RCRP figures: HCP consultation before detention
//     47% → 66%; ambulance conveyance 35% → 66%; s136 detentions about −30%.
//   - [BTP] British Transport Police: officer time at a health-based place of
//     safety 219 → 79 minutes per incident.
//   - [Law] MHA 1983 s136/s136B, Policing and Crime Act 2017 s82, SI 2017/1036:
//     24-hour clock from arrival, extensions up to 12 h, police stations only for
//     adults with conditions met and an inspector's authorisation.
//   - [Design] our own assumption, chosen to be plausible for London and to
//     exercise every measure; change freely.
//
// Annual s136 volumes at the start of the period [Design, about 17% of the
// national total [HO] for the three forces together]: Met 5,800, BTP 1,500,
// City of London 300. RCRP calls run at about 3.5 times the starting s136
// volume [Design: "several times"].
const (
	// goLiveAt is where in a History period the force goes live with RCRP
	// (fraction of the period) [Design]. Before it every measure holds its
	// "before" value.
	goLiveAt = 0.25
	// rampLength is how long (fraction of the period) the measures take to move
	// from "before" to "after" once RCRP is live [Design].
	rampLength = 0.5

	// daysPerYear converts annual rates to daily ones.
	daysPerYear = 365.25
	// hoursPerYear converts annual rates to hourly ones (live mode).
	hoursPerYear = daysPerYear * 24

	// seasonalAmplitude is the summer peak (and winter trough) of detentions
	// relative to the mean, peaking in July [Design].
	seasonalAmplitude = 0.08
	// peakMonth is the month of the seasonal peak [Design].
	peakMonth = 7

	// firstPosEDWeight and the weights below are the first place of safety
	// shares in per cent [HO]: ED 48%, mental-health PoS 44%; the remainder
	// split [Design]. The police-station weight is per force (profile).
	firstPosEDWeight          = 48.0
	firstPosHBPoSWeight       = 44.0
	firstPosPrivateHomeWeight = 0.4
	firstPosOtherWeight       = 4.0
	firstPosNotKnownWeight    = 3.0

	// s135AmbulanceShare is the ambulance share of conveyances after a
	// planned s135(1) warrant, where an ambulance is booked [Design].
	s135AmbulanceShare = 0.8

	// conveyanceNoneAtEDShare is the share of ED detentions where the person
	// was already at the ED when detained [Design].
	conveyanceNoneAtEDShare = 0.02
	// otherHealthVehicleShare and otherMeansShare are shares of conveyances
	// with a known method [Design]; police vehicles take the remainder after
	// ambulance [HO: about 49% at the start].
	otherHealthVehicleShare = 0.03
	otherMeansShare         = 0.02

	// breachShare is the share of detentions that run past 24 hours plus any
	// extension [Design: "a small share"].
	breachShare = 0.02
	// extensionShare is the share of detentions extended under s136B [Design:
	// "rare"]; maxExtensionHours is the legal maximum [Law].
	extensionShare    = 0.012
	maxExtensionHours = 12
	// detentionClockHours is the s136 clock [Law].
	detentionClockHours = 24

	// transferShare is the share of ED detentions later moved to an HBPoS
	// [Design].
	transferShare = 0.12
	// healthUpdateShare is the share of detentions at an NHS place of safety
	// whose trust sends a health update [Design: feeds are not complete].
	healthUpdateShare = 0.88
	// presenceRiskAcceptShare is how often police stay when the NHS cites a
	// risk to life [Design].
	presenceRiskAcceptShare = 0.9

	// noSubjectShare is the share of RCRP calls with no identified person
	// [Design].
	noSubjectShare = 0.25
	// rcrpArrestShare is the share of attended crime-threshold RCRP calls that
	// end in an arrest [Design].
	rcrpArrestShare = 0.3
	// s136ArrestShare is the share of s136 detentions where the person was
	// also arrested for an offence [Design].
	s136ArrestShare = 0.03
	// s136CrimeThresholdShare is the share of s136 incidents attended to
	// investigate a crime rather than for risk to life [Design].
	s136CrimeThresholdShare = 0.08

	// sharedPersonShare, frequentPersonShare: where the person in an incident
	// comes from [Design]. sharedPoolSize people are shared by all forces (the
	// cross-force repeats); each force has its own pool of frequent contacts;
	// everyone else appears once.
	sharedPersonShare   = 0.03
	frequentPersonShare = 0.17
	sharedPoolSize      = 150
)

// trend is a measure that moves from before to after as RCRP beds in.
type trend struct{ before, after float64 }

// at returns the value at ramp progress x (0 = before RCRP, 1 = fully in
// effect).
func (t trend) at(x float64) float64 { return t.before + (t.after-t.before)*x }

// Trends shared by all forces.
var (
	// hcpNotKnown: share of s136 with the consultation answer not known
	// [Design: completeness improves].
	hcpNotKnown = trend{0.06, 0.02}
	// conveyanceNotKnown: conveyance method not recorded [HO: about 7%].
	conveyanceNotKnown = trend{0.07, 0.03}
	// ambulanceWaitMedianMin: median wait for an ambulance, minutes [Design].
	ambulanceWaitMedianMin = trend{55, 30}
	// assessmentDelayMedianMin: arrival at PoS to assessment start [Design].
	assessmentDelayMedianMin = trend{270, 180}
	// presenceRequestShare: NHS asks officers to stay [Design].
	presenceRequestShare = trend{0.30, 0.15}
	// presenceAcceptShare: police agree to stay when the reason is not a risk
	// to life [Design: RCRP means officers leave once handed over].
	presenceAcceptShare = trend{0.70, 0.25}
	// RCRP dispositions [Design: "from police_deployed toward
	// referred_to_partner/advice_only"].
	rcrpDeployed   = trend{0.78, 0.38}
	rcrpReferred   = trend{0.08, 0.34}
	rcrpAdviceOnly = trend{0.07, 0.18}
	rcrpNFA        = trend{0.07, 0.10}
	// rcrpNotAssessedAttended / rcrpNotAssessedOther: before RCRP most calls
	// were not assessed against the threshold [Design].
	rcrpNotAssessedAttended = trend{0.50, 0.03}
	rcrpNotAssessedOther    = trend{0.70, 0.05}
)

// profile is the calibration of one force.
type profile struct {
	id string
	// s136PerYear is the annual s136 volume at the start of the period;
	// s136Fall the fractional fall once RCRP is fully in effect.
	s136PerYear float64
	s136Fall    float64
	// s135PerYear is the annual s135(1) volume (warrants are for private
	// premises, so BTP has none).
	s135PerYear float64
	// rcrpPerYear is the annual number of RCRP calls.
	rcrpPerYear float64
	// hcp is P(consulted | answer known); ambulance is the ambulance share of
	// conveyances with a known method; officerMin the median officer time at
	// an NHS place of safety in minutes, before requests to stay (which add
	// about 6–10% to the measured median).
	hcp        trend
	ambulance  trend
	officerMin trend
	// policeStationWeight is the per cent of detentions whose first place of
	// safety is a police station (adults only).
	policeStationWeight float64
	// frequentPool is how many frequent contacts the force has.
	frequentPool int
	// areas are where the force's incidents happen.
	areas []area
}

// profiles holds the calibrated forces, in Forces() order.
var profiles = []*profile{
	{
		id:                  "btp",
		s136PerYear:         1500, // [Design] ~1,500 a year
		s136Fall:            0.20, // [Design]
		s135PerYear:         0,
		rcrpPerYear:         5200,
		hcp:                 trend{0.45, 0.65}, // [Design], shaped on [MPS]
		ambulance:           trend{0.30, 0.58}, // [Design], shaped on [MPS]
		officerMin:          trend{200, 74},    // [BTP] measured 219 → 79 once requests to stay are added
		policeStationWeight: 0.5,               // [Design]
		frequentPool:        70,                // [Design]
		areas:               btpAreas,          // mostly central London stations
	},
	{
		id:                  "metropolitan",
		s136PerYear:         5800, // [Design] 5,000–6,000 a year
		s136Fall:            0.30, // [MPS] −30%
		s135PerYear:         120,
		rcrpPerYear:         20000,
		hcp:                 trend{0.47, 0.66}, // [MPS]
		ambulance:           trend{0.35, 0.66}, // [MPS]
		officerMin:          trend{230, 95},    // [Design], shaped on [BTP]
		policeStationWeight: 0.4,
		frequentPool:        250,
		areas:               metAreas,
	},
	{
		id:                  "city-of-london",
		s136PerYear:         300,
		s136Fall:            0.20,
		s135PerYear:         3,
		rcrpPerYear:         1050,
		hcp:                 trend{0.50, 0.70},
		ambulance:           trend{0.38, 0.64},
		officerMin:          trend{200, 85},
		policeStationWeight: 0.5,
		frequentPool:        15,
		areas:               cityAreas,
	},
}

// hourWeights is the relative volume of incidents by hour of day (UTC),
// quieter in the early morning and busiest in the evening [Design].
var hourWeights = []float64{
	5.0, 4.5, 4.0, 3.5, 2.5, 2.0, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5,
	4.5, 5.0, 5.0, 5.5, 5.5, 5.5, 6.0, 6.0, 6.0, 6.0, 6.0, 5.5,
}

// weekdayFactor is the relative volume by day of week, Sunday first, with a
// mean of 1 [Design].
var weekdayFactor = []float64{1.00, 0.95, 0.95, 0.97, 0.98, 1.05, 1.10}

// Person traits, per cent [Design: plausible for people detained in London].
var (
	ageBandWeights = []choice[pathwayv1.AgeBand]{
		{pathwayv1.AgeBand_AGE_BAND_UNDER_18, 5},
		{pathwayv1.AgeBand_AGE_BAND_18_24, 18},
		{pathwayv1.AgeBand_AGE_BAND_25_34, 27},
		{pathwayv1.AgeBand_AGE_BAND_35_44, 21},
		{pathwayv1.AgeBand_AGE_BAND_45_54, 14},
		{pathwayv1.AgeBand_AGE_BAND_55_64, 8},
		{pathwayv1.AgeBand_AGE_BAND_65_PLUS, 3},
		{pathwayv1.AgeBand_AGE_BAND_NOT_KNOWN, 4},
	}
	sexWeights = []choice[pathwayv1.Sex]{
		{pathwayv1.Sex_SEX_MALE, 60},
		{pathwayv1.Sex_SEX_FEMALE, 37},
		{pathwayv1.Sex_SEX_NOT_STATED, 1},
		{pathwayv1.Sex_SEX_NOT_KNOWN, 2},
	}
	// ethnicityWeights: White ~50%, Black ~19% (over-represented relative to
	// London's population, as in published s136 data), Asian ~11%, Mixed
	// ~7.5%, Other ~4%, not stated or not known ~8%.
	ethnicityWeights = []choice[pathwayv1.Ethnicity]{
		{pathwayv1.Ethnicity_ETHNICITY_A_WHITE_BRITISH, 38},
		{pathwayv1.Ethnicity_ETHNICITY_B_WHITE_IRISH, 2},
		{pathwayv1.Ethnicity_ETHNICITY_C_WHITE_OTHER, 10},
		{pathwayv1.Ethnicity_ETHNICITY_D_MIXED_WHITE_BLACK_CARIBBEAN, 3},
		{pathwayv1.Ethnicity_ETHNICITY_E_MIXED_WHITE_BLACK_AFRICAN, 1.5},
		{pathwayv1.Ethnicity_ETHNICITY_F_MIXED_WHITE_ASIAN, 1},
		{pathwayv1.Ethnicity_ETHNICITY_G_MIXED_OTHER, 2},
		{pathwayv1.Ethnicity_ETHNICITY_H_ASIAN_INDIAN, 3},
		{pathwayv1.Ethnicity_ETHNICITY_J_ASIAN_PAKISTANI, 2},
		{pathwayv1.Ethnicity_ETHNICITY_K_ASIAN_BANGLADESHI, 2},
		{pathwayv1.Ethnicity_ETHNICITY_L_ASIAN_OTHER, 3.5},
		{pathwayv1.Ethnicity_ETHNICITY_M_BLACK_CARIBBEAN, 7},
		{pathwayv1.Ethnicity_ETHNICITY_N_BLACK_AFRICAN, 8},
		{pathwayv1.Ethnicity_ETHNICITY_P_BLACK_OTHER, 4},
		{pathwayv1.Ethnicity_ETHNICITY_R_CHINESE, 0.5},
		{pathwayv1.Ethnicity_ETHNICITY_S_OTHER, 4},
		{pathwayv1.Ethnicity_ETHNICITY_Z_NOT_STATED, 3},
		{pathwayv1.Ethnicity_ETHNICITY_99_NOT_KNOWN, 5},
	}
)

// Decisions and conveyance, per cent [Design].
var (
	// hcpNoWeights splits "not consulted" answers.
	hcpNoWeights = []choice[pathwayv1.HcpConsulted]{
		{pathwayv1.HcpConsulted_HCP_CONSULTED_NO_NOT_PRACTICABLE, 70},
		{pathwayv1.HcpConsulted_HCP_CONSULTED_NO_OTHER, 30},
	}
	consulteeWeights = []choice[pathwayv1.ConsulteeRole]{
		{pathwayv1.ConsulteeRole_CONSULTEE_ROLE_NURSE, 50},
		{pathwayv1.ConsulteeRole_CONSULTEE_ROLE_PARAMEDIC, 18},
		{pathwayv1.ConsulteeRole_CONSULTEE_ROLE_AMHP, 14},
		{pathwayv1.ConsulteeRole_CONSULTEE_ROLE_DOCTOR, 10},
		{pathwayv1.ConsulteeRole_CONSULTEE_ROLE_OCCUPATIONAL_THERAPIST, 1},
		{pathwayv1.ConsulteeRole_CONSULTEE_ROLE_NOT_KNOWN, 7},
	}
	channelWeights = []choice[pathwayv1.ConsultationChannel]{
		{pathwayv1.ConsultationChannel_CONSULTATION_CHANNEL_CONTROL_ROOM_PRACTITIONER, 45},
		{pathwayv1.ConsultationChannel_CONSULTATION_CHANNEL_NHS_ADVICE_LINE, 28},
		{pathwayv1.ConsultationChannel_CONSULTATION_CHANNEL_STREET_TRIAGE, 20},
		{pathwayv1.ConsultationChannel_CONSULTATION_CHANNEL_OTHER, 7},
	}
	// vehicleReasonWeights: why a police vehicle was used [Design; 30-minute
	// ambulance threshold from the Home Office reason codes].
	vehicleReasonWeights = []choice[pathwayv1.PoliceVehicleReason]{
		{pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_AMBULANCE_NOT_AVAILABLE_30MIN, 48},
		{pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_AMBULANCE_NOT_REQUESTED, 22},
		{pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_AMBULANCE_DIVERTED, 6},
		{pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_AMBULANCE_CREW_REFUSED, 5},
		{pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_OTHER, 10},
		{pathwayv1.PoliceVehicleReason_POLICE_VEHICLE_REASON_NOT_KNOWN, 9},
	}
	presenceReasonWeights = []choice[pathwayv1.PresenceReason]{
		{pathwayv1.PresenceReason_PRESENCE_REASON_RISK_TO_LIFE_OR_SERIOUS_HARM, 45},
		{pathwayv1.PresenceReason_PRESENCE_REASON_INSUFFICIENT_STAFF, 35},
		{pathwayv1.PresenceReason_PRESENCE_REASON_TRANSFER_NEEDED, 10},
		{pathwayv1.PresenceReason_PRESENCE_REASON_OTHER, 10},
	}
	outcomeWeights = []choice[pathwayv1.Outcome]{
		{pathwayv1.Outcome_OUTCOME_ADMITTED_S2, 15},
		{pathwayv1.Outcome_OUTCOME_ADMITTED_S3, 4},
		{pathwayv1.Outcome_OUTCOME_INFORMAL_ADMISSION, 12},
		{pathwayv1.Outcome_OUTCOME_DISCHARGED_WITH_FOLLOWUP, 40},
		{pathwayv1.Outcome_OUTCOME_DISCHARGED_NO_FOLLOWUP, 18},
		{pathwayv1.Outcome_OUTCOME_TRANSFERRED_OTHER_POS, 1},
		{pathwayv1.Outcome_OUTCOME_ARRESTED, 1.5},
		{pathwayv1.Outcome_OUTCOME_ABSCONDED, 2},
		{pathwayv1.Outcome_OUTCOME_OTHER, 3},
		{pathwayv1.Outcome_OUTCOME_NOT_KNOWN, 3.5},
	}
	// s135PosWeights: after a warrant the person usually goes to a
	// mental-health place of safety.
	s135PosWeights = []choice[pathwayv1.PlaceOfSafetyType]{
		{pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_HBPOS, 80},
		{pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_EMERGENCY_DEPARTMENT, 15},
		{pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_NOT_KNOWN, 5},
	}
	rcrpCategoryWeights = []choice[pathwayv1.RcrpCategory]{
		{pathwayv1.RcrpCategory_RCRP_CATEGORY_CONCERN_FOR_WELFARE, 55},
		{pathwayv1.RcrpCategory_RCRP_CATEGORY_WALKOUT_HEALTHCARE, 10},
		{pathwayv1.RcrpCategory_RCRP_CATEGORY_AWOL_MHA, 9},
		{pathwayv1.RcrpCategory_RCRP_CATEGORY_MEDICAL, 9},
		{pathwayv1.RcrpCategory_RCRP_CATEGORY_CONVEYANCE, 6},
		{pathwayv1.RcrpCategory_RCRP_CATEGORY_S136_HANDOVER, 2},
		{pathwayv1.RcrpCategory_RCRP_CATEGORY_OTHER, 9},
	}
	// rcrpCrimeShare is the share of attended, assessed RCRP calls attended for
	// a crime rather than a risk to life.
	rcrpCrimeShare = 0.15
)

// logNormal is a skewed duration in minutes: its median, its spread on the
// log scale, and an upper limit.
type logNormal struct{ median, sigma, limit float64 }

// withMedian returns d with another median (for durations that follow a
// trend).
func (d logNormal) withMedian(m float64) logNormal { d.median = m; return d }

// interval is a value drawn evenly between lo and hi: minutes, or a fraction
// of another duration.
type interval struct{ lo, hi float64 }

// Durations along the pathway, in minutes unless marked as a fraction
// [Design, unless a source is given]. The limits keep an ordinary detention
// under 24 hours; breaches are made on purpose (breachShare).
var (
	// Before the detention.
	s136Deploy   = logNormal{15, 0.8, 240} // call → officers deployed
	s136OnScene  = logNormal{35, 0.6, 180} // deployed → detained
	s136Consult  = interval{0.2, 0.8}      // fraction of on-scene time before the HCP is consulted
	s135Deploy   = logNormal{30, 0.4, 120} // planned warrant: call → entry
	s135AMHP     = interval{2, 10}         // entry → AMHP consulted on scene
	s135OnScene  = logNormal{45, 0.5, 180} // AMHP consulted → detained
	s135CallHour = interval{9, 16}         // planned warrants start in office hours (hours, UTC)

	// Conveyance to the place of safety.
	ambulanceRequest = interval{1, 10}         // detained → ambulance requested
	ambulanceWait    = logNormal{0, 0.7, 360}  // median: ambulanceWaitMedianMin
	ambulanceLoading = interval{10, 20}        // ambulance arrived → leaves the scene
	ambulanceGiveUp  = interval{30, 60}        // waited for an ambulance not available within 30 min [HO reason code]
	ambulanceDiverts = interval{10, 40}        // ambulance requested → diverted, police convey
	policeDeparts    = interval{5, 15}         // detained → police vehicle leaves
	otherDeparts     = interval{15, 60}        // detained → other transport leaves
	travel           = logNormal{20, 0.5, 120} // scene → place of safety

	// At the place of safety.
	officerTime     = logNormal{0, 0.55, 12 * 60} // median: profile.officerMin
	handoverStart   = interval{1, 10}             // arrived → handover initiated
	handoverAt      = interval{0.55, 0.9}         // fraction of officer time before handover accepted
	presenceAsked   = interval{0.3, 0.9}          // fraction of the time from handover to leaving
	presenceAnswer  = interval{1, 10}             // request → police answer
	presenceStay    = logNormal{90, 0.6, 6 * 60}  // extra time when police agree to stay
	presenceLeave   = interval{5, 20}             // answer → leaving, when police decline
	assessmentDelay = logNormal{0, 0.6, 14 * 60}  // arrived → assessment; median: assessmentDelayMedianMin
	afterHandover   = interval{5, 30}             // handover accepted → assessment, at the earliest
	assessment      = logNormal{75, 0.4, 3 * 60}  // assessment started → completed
	afterAssessment = logNormal{90, 0.8, 5 * 60}  // completed → detention ended (discharge)
	afterAdmission  = logNormal{180, 0.8, 5 * 60} // completed → detention ended (waiting for a bed)
	breachOverrun   = interval{10, 6 * 60}        // beyond 24 hours, for a breach
	transferAt      = interval{0.3, 0.7}          // fraction of the assessment delay before a transfer

	// RCRP calls.
	rcrpDeploy  = logNormal{25, 0.9, 6 * 60} // call → deployed
	rcrpAttend  = logNormal{70, 0.6, 8 * 60} // deployed → police involvement ends
	rcrpResolve = logNormal{25, 0.6, 4 * 60} // call → closed without deployment
)
