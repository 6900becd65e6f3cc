package pathway.approve_test

import data.pathway.approve

entry(recipient, role, forces, datasets) := {
	"agreement": "london",
	"recipient": recipient,
	"valid_from": "2024-04-01",
	"valid_until": "2027-03-31",
	"match": {"dataset": {d: true | some d in array.concat([""], datasets)}},
	"grant": {"agreement": "london", "recipient": recipient, "role": role, "forces": forces},
}

index := {"recipients": {
	"force/btp": [
		entry("btp_supervisors", "force_supervisor", ["btp"], ["incidents"]),
		entry("btp_wide", "force_analyst", ["btp", "metropolitan"], ["incidents"]),
		entry("btp_lead", "regional_lead", ["btp"], ["incidents"]),
		entry("btp_health", "force_analyst", ["btp"], ["health_updates"]),
	],
	"icb/QMJ": [entry("ncl_icb", "commissioner", ["btp"], ["incidents"])],
}}

decide(overrides) := d if {
	base := {"action": "approve", "dataset": "", "force": "btp", "pos_org": "", "recipient": "", "date": "2025-06-01"}
	d := approve.decision with input as object.union(base, overrides)
		with data.pathway.index as index
}

test_the_forces_own_supervisors_approve if {
	d := decide({"org": "force/btp"})
	d.allow
	[g.recipient | some g in d.grants] == ["btp_supervisors"]
}

test_they_reopen_too if {
	d := decide({"org": "force/btp", "action": "reopen"})
	d.allow
}

test_another_forces_months_are_not_theirs if {
	d := decide({"org": "force/btp", "force": "metropolitan"})
	not d.allow
	d.reasons == ["only force metropolitan's own supervisors or analysts, under an agreement in force covering its incidents, may approve its months"]
}

test_a_commissioner_does_not_approve if {
	d := decide({"org": "icb/QMJ"})
	not d.allow
}

test_not_outside_the_agreement if {
	d := decide({"org": "force/btp", "date": "2027-04-01"})
	not d.allow
}

test_a_force_is_needed if {
	d := decide({"org": "force/btp", "force": ""})
	not d.allow
}
