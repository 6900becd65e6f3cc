package measures

import (
	"fmt"
	"maps"
	"slices"
)

// The grains the measures are computed at.
const (
	grainForceMonth = "force × month"
)

// catalogue builds the measure list afresh on every call, so no caller can
// change another's copy.
func catalogue() []Measure {
	return []Measure{
		s136Detentions(),
		detentionRate(),
		hcpConsultation(),
		ambulanceConveyance(),
		edFirstPoS(),
		policeStationUse(),
		policeStationUnder18(),
		officerTimeAtPoS(),
		officerTimeAtPoSP90(),
		handoverWithinTarget(),
		ambulanceWait(),
		ambulanceWithin30(),
		timeToAssessment(),
		detentionBreaches(),
		repeatDetention(),
		rcrpDeploymentsAvoided(),
		officerHoursReleased(),
		ethnicDisparity(),
		feedTimeliness(),
		feedCompleteness(),
	}
}

// countOf is the spec of a count of the incidents matching where, by the
// month of when.
func countOf(when, where string) spec {
	return spec{when: when, where: fixed(where), aggs: fixed(counted), numerator: "n", denominator: "n"}
}

// shareOf is the spec of the proportion of the incidents matching den that
// also match num, by the month of when.
func shareOf(when, den, num string) spec {
	return spec{
		when: when, where: fixed(den),
		aggs:      fixed("countIf(" + num + ") AS k, count() AS n"),
		numerator: "k", denominator: "n",
	}
}

// medianOf is the spec of the median in minutes of value over the incidents
// matching where, by the month of when.
func medianOf(when, where, value string) spec {
	return spec{
		when: when, where: fixed(where),
		aggs:      fixed(sortedValues(value)),
		numerator: medianOfSorted, denominator: "n",
	}
}

func s136Detentions() Measure {
	return Measure{
		ID:    "s136_detentions",
		Title: "Section 136 detentions",
		Definition: "The number of people detained under section 136 of the Mental Health Act, counted in " +
			"the month of detention. Context for every other measure: neither more nor fewer is better in itself.",
		Unit: "detentions", Kind: Count, Direction: Neutral, Multiplier: 1, Grain: grainForceMonth,
		NumeratorDef:   "s136 detentions with a detention time in the month.",
		DenominatorDef: "Not applicable (repeats the numerator).",
		spec:           countOf("detained", isS136),
	}
}

func detentionRate() Measure {
	pops := ForcePopulations()
	s := countOf("detained", isS136)
	// By force, the force area's residents; by region (QueryByRegion), the
	// region's. The codes cannot be mistaken for one another.
	s.denominator = forceLookup(mergeMaps(pops, regionPopulations()))
	s.perForce = slices.Sorted(maps.Keys(pops))
	return Measure{
		ID:    "detention_rate",
		Title: "Section 136 detention rate",
		Definition: "Section 136 detentions in the month per 100,000 residents of the force area (of the region, " +
			"where regions are compared): detentions ÷ residents × 100,000. Territorial forces only: British Transport " +
			"Police polices the railway, not a resident population, and is left out. Residents: " + PopulationSource + ".",
		Unit: "per 100,000 residents", Kind: Rate, Direction: Neutral, Multiplier: 100_000, Funnel: true, Grain: grainForceMonth,
		NumeratorDef:   "s136 detentions with a detention time in the month.",
		DenominatorDef: "Residents of the force area (Census 2021); only forces with a documented population have rows.",
		spec:           s,
	}
}

func hcpConsultation() Measure {
	return Measure{
		ID:    "hcp_consultation",
		Title: "Health professional consulted before detention",
		Definition: "The share of s136 detentions where the officer consulted a health professional before " +
			"detaining (s136(1C)): consulted ÷ detentions with a known answer × 100. Detentions recorded as " +
			"'not known' are left out of both.",
		Unit: "%", Kind: Proportion, Direction: Higher, Multiplier: 100, Funnel: true, Grain: grainForceMonth,
		NumeratorDef:   "s136 detentions with a health professional consulted ('yes').",
		DenominatorDef: "s136 detentions answered 'yes', 'no, not practicable' or 'no, other reason'.",
		spec: shareOf("detained",
			isS136+" AND hcp_consulted IN ('yes', 'no_not_practicable', 'no_other')",
			"hcp_consulted = 'yes'"),
	}
}

func ambulanceConveyance() Measure {
	return Measure{
		ID:    "ambulance_conveyance",
		Title: "Conveyed by ambulance",
		Definition: "The share of s136 detentions conveyed to the place of safety by ambulance: ambulance ÷ " +
			"conveyances with a known method × 100. People already at the place of safety (no conveyance) and " +
			"methods recorded as 'not known' are left out of both.",
		Unit: "%", Kind: Proportion, Direction: Higher, Multiplier: 100, Funnel: true, Grain: grainForceMonth,
		NumeratorDef:   "s136 detentions conveyed by ambulance.",
		DenominatorDef: "s136 detentions conveyed by ambulance, police vehicle, other health vehicle or other means.",
		spec: shareOf("detained",
			isS136+" AND conveyance_method IN ('ambulance', 'police_vehicle', 'other_health_vehicle', 'other')",
			"conveyance_method = 'ambulance'"),
	}
}

func edFirstPoS() Measure {
	return Measure{
		ID:    "ed_first_pos",
		Title: "Emergency department as first place of safety",
		Definition: "The share of s136 detentions whose first place of safety was an emergency department: " +
			"emergency department ÷ detentions with a known first place of safety × 100. Context: the right " +
			"place depends on the person's physical health.",
		Unit: "%", Kind: Proportion, Direction: Neutral, Multiplier: 100, Funnel: true, Grain: grainForceMonth,
		NumeratorDef: "s136 detentions whose first place of safety was an emergency department.",
		DenominatorDef: "s136 detentions whose first place of safety is known (health-based place of safety, " +
			"emergency department, police station, private home or other).",
		spec: shareOf("detained",
			isS136+" AND first_pos_type IN ('hbpos', 'emergency_department', 'police_station', 'private_home', 'other')",
			"first_pos_type = 'emergency_department'"),
	}
}

func policeStationUse() Measure {
	return Measure{
		ID:    "police_station_use",
		Title: "Police station used as a place of safety",
		Definition: "The number of Mental Health Act detentions (s136, s135(1) and s135(2)) in which a police " +
			"station was a place of safety, first or after a transfer, by month of detention. The law allows it " +
			"for adults only in exceptional circumstances and never for under-18s (see police_station_under18, " +
			"which must be 0).",
		Unit: "detentions", Kind: Count, Direction: Lower, Multiplier: 1, Grain: grainForceMonth,
		NumeratorDef:   "Detentions with a police station as first place of safety or as a later one.",
		DenominatorDef: "Not applicable (repeats the numerator).",
		spec:           countOf("detained", isDetention+" AND "+usedStation),
	}
}

func policeStationUnder18() Measure {
	return Measure{
		ID:    "police_station_under18",
		Title: "Police station used for under-18s",
		Definition: "The number of Mental Health Act detentions of under-18s in which a police station was a " +
			"place of safety, by month of detention. The law forbids it (SI 2017/1036), so the target is 0 and " +
			"ingest rejects such records, so any count above 0 means the stored data escaped that rule and " +
			"should be investigated. Published as assurance that the rule holds.",
		Unit: "detentions", Kind: Count, Direction: Lower, Target: ptr(0), Multiplier: 1, Grain: grainForceMonth,
		NumeratorDef:   "Detentions of people aged under 18 with a police station as a place of safety.",
		DenominatorDef: "Not applicable (repeats the numerator).",
		spec:           countOf("detained", isDetention+" AND age_band = 'under_18' AND "+usedStation),
	}
}

func officerTimeAtPoS() Measure {
	return Measure{
		ID:    "officer_time_at_pos",
		Title: "Officer time at the place of safety (median)",
		Definition: "The median time officers spent at the place of safety for s136 detentions: police left − " +
			"arrived at the place of safety, in minutes, by month of detention. The median of an even number of " +
			"detentions is the mean of the middle two. Its 90th percentile is officer_time_at_pos_p90.",
		Unit: "minutes", Kind: Median, Direction: Lower, Multiplier: 1, Grain: grainForceMonth,
		NumeratorDef:   "Median of (police left the place of safety − arrived at the place of safety), minutes.",
		DenominatorDef: "s136 detentions with both times recorded.",
		spec: medianOf("detained", isS136+" AND "+known("arrived_at_pos", "police_left_pos"),
			minutes("arrived_at_pos", "police_left_pos")),
	}
}

func officerTimeAtPoSP90() Measure {
	s := medianOf("detained", isS136+" AND "+known("arrived_at_pos", "police_left_pos"),
		minutes("arrived_at_pos", "police_left_pos"))
	s.numerator = p90OfSorted
	return Measure{
		ID:    "officer_time_at_pos_p90",
		Title: "Officer time at the place of safety (90th percentile)",
		Definition: "The 90th percentile of the time officers spent at the place of safety for s136 " +
			"detentions (police left − arrived at the place of safety, minutes), by month of detention: nine " +
			"in ten detentions took no longer. Nearest-rank method: the value at rank ⌈0.9 × n⌉ of the n " +
			"times in ascending order.",
		Unit: "minutes", Kind: Median, Direction: Lower, Multiplier: 1, Grain: grainForceMonth,
		NumeratorDef:   "90th percentile (nearest rank) of (police left − arrived at the place of safety), minutes.",
		DenominatorDef: "s136 detentions with both times recorded.",
		spec:           s,
	}
}

func handoverWithinTarget() Measure {
	return Measure{
		ID:    "handover_within_target",
		Title: "Handover within target",
		Definition: "The share of s136 handovers at the place of safety accepted by health staff within the " +
			"handover target (thresholds.handover_target, one hour by default) of arrival: handovers with " +
			"accepted − arrived ≤ target ÷ handovers recorded × 100, by month of detention. The acceptance " +
			"time is the force's, or the trust's own when the force has none.",
		Unit: "%", Kind: Proportion, Direction: Higher, Multiplier: 100, Funnel: true, Grain: grainForceMonth,
		NumeratorDef:   "s136 detentions whose handover was accepted within the target of arrival at the place of safety.",
		DenominatorDef: "s136 detentions with both arrival at the place of safety and handover acceptance recorded.",
		spec: spec{
			when: "detained", health: true,
			where: fixed(isS136 + " AND " + known("arrived_at_pos", handover)),
			aggs: func(th Thresholds) string {
				return "countIf(toInt64(assumeNotNull(" + handover + ")) - toInt64(assumeNotNull(arrived_at_pos)) <= " +
					seconds(th.HandoverTarget) + ") AS k, count() AS n"
			},
			numerator: "k", denominator: "n",
		},
	}
}

func ambulanceWait() Measure {
	return Measure{
		ID:    "ambulance_wait",
		Title: "Ambulance wait (median)",
		Definition: "The median wait for an ambulance in s136 detentions: ambulance arrived − ambulance " +
			"requested, in minutes, by month of detention.",
		Unit: "minutes", Kind: Median, Direction: Lower, Multiplier: 1, Grain: grainForceMonth,
		NumeratorDef:   "Median of (ambulance arrived − ambulance requested), minutes.",
		DenominatorDef: "s136 detentions with both ambulance times recorded.",
		spec: medianOf("detained", isS136+" AND "+known("ambulance_requested_at", "ambulance_arrived"),
			minutes("ambulance_requested_at", "ambulance_arrived")),
	}
}

func ambulanceWithin30() Measure {
	return Measure{
		ID:    "ambulance_within_30",
		Title: "Ambulance within 30 minutes",
		Definition: "The share of ambulances requested for s136 detentions that arrived within the ambulance " +
			"threshold (thresholds.ambulance_wait, 30 minutes by default): arrived − requested ≤ threshold ÷ " +
			"ambulances with both times recorded × 100, by month of detention.",
		Unit: "%", Kind: Proportion, Direction: Higher, Multiplier: 100, Funnel: true, Grain: grainForceMonth,
		NumeratorDef:   "s136 detentions whose ambulance arrived within the threshold of the request.",
		DenominatorDef: "s136 detentions with both ambulance times recorded.",
		spec: spec{
			when:  "detained",
			where: fixed(isS136 + " AND " + known("ambulance_requested_at", "ambulance_arrived")),
			aggs: func(th Thresholds) string {
				return "countIf(toInt64(assumeNotNull(ambulance_arrived)) - toInt64(assumeNotNull(ambulance_requested_at)) <= " +
					seconds(th.AmbulanceWait) + ") AS k, count() AS n"
			},
			numerator: "k", denominator: "n",
		},
	}
}

func timeToAssessment() Measure {
	s := medianOf("detained", isS136+" AND "+known("arrived_at_pos", assessment),
		minutes("arrived_at_pos", assessment))
	s.health = true
	return Measure{
		ID:    "time_to_assessment",
		Title: "Time to Mental Health Act assessment (median)",
		Definition: "The median time from arrival at the place of safety to the start of the Mental Health Act " +
			"assessment for s136 detentions, in minutes, by month of detention. The assessment time is the " +
			"force's, or the trust's own when the force has none.",
		Unit: "minutes", Kind: Median, Direction: Lower, Multiplier: 1, Grain: grainForceMonth,
		NumeratorDef:   "Median of (assessment started − arrived at the place of safety), minutes.",
		DenominatorDef: "s136 detentions with both times recorded.",
		spec:           s,
	}
}

func detentionBreaches() Measure {
	return Measure{
		ID:    "detention_breaches",
		Title: "Detentions over the legal limit",
		Definition: "The number of Mental Health Act detentions (s136 and s135) that ended more than the " +
			"detention clock (thresholds.detention_clock, 24 hours in law) plus any authorised extension after " +
			"arrival at the place of safety, by month of detention. Computed from the times, so it follows the " +
			"configured clock; with the legal 24 hours it equals the breach flag set at ingest. Detentions " +
			"still open are not counted (the live monitor watches them).",
		Unit: "detentions", Kind: Count, Direction: Lower, Target: ptr(0), Multiplier: 1, Grain: grainForceMonth,
		NumeratorDef:   "Ended detentions with detention ended − arrived at the place of safety > clock + extension hours.",
		DenominatorDef: "Not applicable (repeats the numerator).",
		spec: spec{
			when: "detained",
			where: func(th Thresholds) string {
				return isDetention + " AND " + known("arrived_at_pos", "detention_ended") + " AND " +
					"toInt64(assumeNotNull(detention_ended)) - toInt64(assumeNotNull(arrived_at_pos)) > " +
					seconds(th.DetentionClock) + " + if(extension_authorised = 1, toInt64(extension_hours) * 3600, 0)"
			},
			aggs: fixed(counted), numerator: "n", denominator: "n",
		},
	}
}

func repeatDetention() Measure {
	const prior = "arrayExists(p -> p < toUInt32(assumeNotNull(detained)) AND " +
		"p >= toUInt32(assumeNotNull(detained)) - 31536000, prior_detentions)"
	return Measure{
		ID:    "repeat_detention",
		Title: "Repeat detention",
		Definition: "Of the people a force detained under s136 in the month, the share who had also been " +
			"detained under s136 (by any force in the hub) in the 365 days before one of those detentions: " +
			"people with a repeat ÷ people detained × 100. People are linked by their pseudonymous subject " +
			"token; detentions without one are left out.",
		Unit: "%", Kind: Proportion, Direction: Lower, Multiplier: 100, Funnel: true, Grain: grainForceMonth,
		NumeratorDef: "Distinct people detained in the month with another s136 detention, by any force, in the " +
			"365 days before that detention.",
		DenominatorDef: "Distinct people (subject tokens) detained under s136 by the force in the month.",
		spec: spec{
			when: "detained", history: true,
			where:     fixed(isS136 + " AND subject_token != ''"),
			aggs:      fixed("uniqExactIf(subject_token, " + prior + ") AS k, uniqExact(subject_token) AS n"),
			numerator: "k", denominator: "n",
		},
	}
}

// rcrpAvoided is the population of RCRP calls that police did not attend.
const rcrpAvoided = "incident_type = 'rcrp_call' AND disposition IN ('referred_to_partner', 'advice_only', 'no_further_action')"

func rcrpDeploymentsAvoided() Measure {
	return Measure{
		ID:    "rcrp_deployments_avoided",
		Title: "RCRP deployments avoided",
		Definition: "The number of Right Care, Right Person calls the force did not deploy officers to " +
			"(referred to a partner, advice only, or no further action), by month of the call.",
		Unit: "calls", Kind: Count, Direction: Higher, Multiplier: 1, Grain: grainForceMonth,
		NumeratorDef:   "RCRP calls with a disposition other than police deployed.",
		DenominatorDef: "Not applicable (repeats the numerator).",
		spec:           countOf("call_received", rcrpAvoided),
	}
}

func officerHoursReleased() Measure {
	return Measure{
		ID:    "officer_hours_released",
		Title: "Officer hours released",
		Definition: "An estimate of officer time released by RCRP: deployments avoided × the baseline officer " +
			"hours per deployment (thresholds.baseline_officer_hours; 2.5 by default, a planning assumption " +
			"each region should replace with its own figure), by month of the call.",
		Unit: "officer hours", Kind: Count, Direction: Higher, Multiplier: 1, Grain: grainForceMonth,
		NumeratorDef:   "RCRP calls with a disposition other than police deployed × baseline officer hours.",
		DenominatorDef: "Not applicable (repeats the numerator).",
		spec: spec{
			when: "call_received", where: fixed(rcrpAvoided),
			aggs: func(th Thresholds) string {
				return "count() * " + float(th.BaselineOfficerHours) + " AS h"
			},
			numerator: "h", denominator: "h",
			perEvent: func(th Thresholds) float64 { return th.BaselineOfficerHours },
		},
	}
}

func ethnicDisparity() Measure {
	groups := EthnicGroupPopulations()
	ratio := make(map[string]float64, len(groups))
	for f, g := range groups {
		ratio[f] = g.Black / g.White
	}
	return Measure{
		ID:    "ethnic_disparity",
		Title: "Black:White detention rate ratio",
		Definition: "How many times more often Black residents are detained under s136 than White residents: " +
			"(detentions of Black people per 100,000 Black residents) ÷ (detentions of White people per " +
			"100,000 White residents), by month of detention. It is computed, equivalently, as observed ÷ " +
			"expected: the detentions of Black people ÷ the detentions of Black people expected had they been " +
			"detained at the White rate (White detentions × Black residents ÷ White residents). Ethnic group is " +
			"the ONS broad group of the person's self-defined NHS ethnic category; not stated and not known are " +
			"left out. A ratio of 1 is parity; below 1 would also be a disparity, so read it against the target " +
			"of 1. Residents by group: " + PopulationSource + "; only force areas with a documented breakdown " +
			"have rows.",
		Unit: "ratio", Kind: Ratio, Direction: Lower, Target: ptr(1), Multiplier: 1, Grain: grainForceMonth,
		NumeratorDef:   "Observed: s136 detentions of Black people.",
		DenominatorDef: "Expected: s136 detentions of White people × Black residents ÷ White residents of the force area.",
		spec: spec{
			when: "detained", where: fixed(isS136),
			aggs:      fixed("countIf(ethnic_group = 'black') AS b, countIf(ethnic_group = 'white') AS w"),
			numerator: "b",
			// The multiplier is never 0: perForce keeps only forces with a population.
			denominator:      fmt.Sprintf("w * %s", forceLookup(ratio)),
			perForce:         slices.Sorted(maps.Keys(groups)),
			expectedPerCount: ratio,
		},
	}
}

func feedTimeliness() Measure {
	return Measure{
		ID:    "feed_timeliness",
		Title: "Feed timeliness (median lag)",
		Definition: "How late a force's data reaches the hub: the median, over the month's submissions that " +
			"stored at least one record (dry runs, and batches logged after a crash with no lag known, left out), of each submission's median lag from a record's " +
			"latest event to its receipt, in minutes, by month of receipt.",
		Unit: "minutes", Kind: Median, Direction: Lower, Multiplier: 1, Grain: grainForceMonth,
		NumeratorDef:   "Median of the submissions' median lag (lag_p50), minutes.",
		DenominatorDef: "The force's submissions in the month that stored at least one record.",
		spec: spec{
			from: fromSubmissions, when: "received_at",
			where:     fixed("dry_run = 0 AND reconciled = 0 AND accepted + updated > 0"),
			aggs:      fixed(sortedValues("lag_p50_seconds / 60")),
			numerator: medianOfSorted, denominator: "n",
		},
	}
}

// completenessFields are the fields feed_completeness checks, with the
// incidents they apply to and the values that mean "not known". An unset
// value (the empty string) counts as not known for fields the record
// requires.
func completenessFields() []struct{ applies, field, unknown string } {
	all := "1"
	return []struct{ applies, field, unknown string }{
		{all, "age_band", "'not_known'"},
		{all, "sex", "'not_known'"},
		{all, "ethnicity", "'99'"},
		{isDetention, "first_pos_type", "'not_known'"},
		{isDetention, "conveyance_method", "'not_known'"},
		{"conveyance_method = 'police_vehicle'", "police_vehicle_reason", "'not_known', ''"},
		{isS136, "hcp_consulted", "'not_known', ''"},
		{isDetention, "outcome", "'not_known', ''"},
	}
}

func feedCompleteness() Measure {
	var known, assessed string
	for i, f := range completenessFields() {
		if i > 0 {
			known += " + "
			assessed += " + "
		}
		known += fmt.Sprintf("countIf((%s) AND %s NOT IN (%s))", f.applies, f.field, f.unknown)
		assessed += fmt.Sprintf("countIf(%s)", f.applies)
	}
	return Measure{
		ID:    "feed_completeness",
		Title: "Feed completeness",
		Definition: "The share of a force's closed incidents' key fields that hold a known value: 1 − " +
			"(values recorded 'not known' ÷ values checked), × 100, by month of the call. Checked for every " +
			"incident: age band, sex, ethnicity (NHS code 99 is not known; Z, not stated, is an answer). For " +
			"detentions also first place of safety, conveyance method and outcome; for s136 the health " +
			"professional consultation; for police-vehicle conveyances the reason. Open incidents are left " +
			"out, since much is legitimately unknown until they close.",
		Unit: "%", Kind: Proportion, Direction: Higher, Multiplier: 100, Grain: grainForceMonth,
		NumeratorDef:   "Checked field values of closed incidents that are known.",
		DenominatorDef: "Field values checked on closed incidents (3 per incident, more for detentions).",
		spec: spec{
			when: "call_received", where: fixed("status = 'closed'"),
			aggs:      fixed("(" + known + ") AS k, (" + assessed + ") AS n"),
			numerator: "k", denominator: "n",
		},
	}
}
