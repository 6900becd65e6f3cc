package pathway.read_test

import data.pathway.read

entry(agreement, recipient, org, from, until, datasets, export) := {
	"agreement": agreement,
	"recipient": recipient,
	"valid_from": from,
	"valid_until": until,
	"datasets": datasets,
	"export": export,
	"match": {
		"recipient": {"": true, recipient: true},
		"dataset": {d: true | some d in array.concat([""], datasets)},
		"action": {a: true | some a in actions(export)},
	},
	"grant": {
		"agreement": agreement,
		"recipient": recipient,
		"org": org,
		"export": export,
		"valid_until": until,
	},
}

actions(true) := ["read", "export"]

actions(false) := ["read"]

index := {"recipients": {
	"icb/QMJ": [entry("london", "ncl_icb", "icb/QMJ", "2024-04-01", "2027-03-31", ["incidents", "health_updates"], true)],
	"icb/QMF": [entry("london", "nel_icb", "icb/QMF", "2024-04-01", "2027-03-31", ["incidents"], false)],
	"force/btp": [
		entry("national", "btp_analysts", "force/btp", "2024-04-01", "2027-03-31", ["incidents"], true),
		entry("london", "btp_supervisors", "force/btp", "2024-04-01", "2027-03-31", ["incidents"], false),
		entry("old", "btp_archive", "force/btp", "2020-01-01", "2021-12-31", ["incidents"], true),
	],
	"region/north": [
		entry("old", "north_lead", "region/north", "2020-01-01", "2021-12-31", ["incidents"], true),
		entry("future", "north_lead_next", "region/north", "2027-01-01", "2028-12-31", ["incidents"], true),
	],
}}

decide(overrides) := d if {
	base := {"action": "read", "dataset": "", "force": "", "pos_org": "", "recipient": "", "date": "2025-06-01"}
	d := read.decision with input as object.union(base, overrides)
		with data.pathway.index as index
}

test_read_returns_one_grant_per_recipient_in_force if {
	d := decide({"org": "force/btp"})
	d.allow
	[g.recipient | some g in d.grants] == ["btp_analysts", "btp_supervisors"]
}

test_read_grant_carries_the_entrys_obligations if {
	d := decide({"org": "icb/QMJ"})
	d.allow
	d.grants == [index.recipients["icb/QMJ"][0].grant]
}

test_read_restricted_to_one_recipient if {
	d := decide({"org": "force/btp", "recipient": "btp_supervisors"})
	d.allow
	[g.recipient | some g in d.grants] == ["btp_supervisors"]
}

test_read_as_someone_elses_recipient if {
	d := decide({"org": "force/btp", "recipient": "ncl_icb"})
	not d.allow
	d.reasons == ["force/btp is not recipient \"ncl_icb\""]
	d.grants == []
}

test_stranger_is_not_a_recipient if {
	d := decide({"org": "icb/QXX"})
	not d.allow
	d.reasons == ["icb/QXX is not a recipient of any agreement"]
}

test_read_filters_by_dataset if {
	d := decide({"org": "icb/QMJ", "dataset": "health_updates"})
	d.allow
	e := decide({"org": "icb/QMF", "dataset": "health_updates"})
	not e.allow
	e.reasons == ["no agreement of icb/QMF covers \"health_updates\""]
}

test_read_unknown_dataset if {
	d := decide({"org": "icb/QMJ", "dataset": "people"})
	not d.allow
	"dataset \"people\" is not one of incidents, health_updates" in d.reasons
}

test_read_expired_and_future_agreements_are_dated if {
	d := decide({"org": "region/north"})
	not d.allow
	d.reasons == [
		"agreement \"future\" is not valid until 2027-01-01",
		"agreement \"old\" expired on 2021-12-31",
	]
}

test_read_expired_recipient_by_id if {
	d := decide({"org": "force/btp", "recipient": "btp_archive"})
	not d.allow
	d.reasons == ["agreement \"old\" expired on 2021-12-31"]
}

test_export_needs_the_export_flag if {
	d := decide({"org": "icb/QMF", "action": "export"})
	not d.allow
	d.reasons == ["recipient \"nel_icb\" of agreement \"london\" may not export"]
}

test_export_keeps_only_exporting_recipients if {
	d := decide({"org": "force/btp", "action": "export"})
	d.allow
	[g.recipient | some g in d.grants] == ["btp_analysts"]
}

# A force's annual return (an export naming input.force).

with_grant(e, extra) := object.union(e, {"grant": extra})

return_index := {"recipients": {
	"force/btp": [
		with_grant(entry("national", "btp_analysts", "force/btp", "2024-04-01", "2027-03-31", ["incidents"], true), {"role": "force_analyst", "forces": ["btp"]}),
		with_grant(entry("london", "btp_supervisors", "force/btp", "2024-04-01", "2027-03-31", ["incidents"], true), {"role": "force_supervisor", "forces": ["btp", "metropolitan"]}),
		with_grant(entry("london", "btp_lead", "force/btp", "2024-04-01", "2027-03-31", ["incidents"], true), {"role": "regional_lead", "forces": ["btp"]}),
	],
	"icb/QMJ": [with_grant(entry("london", "ncl_icb", "icb/QMJ", "2024-04-01", "2027-03-31", ["incidents"], true), {"role": "commissioner", "forces": ["btp"]})],
}}

decide_return(overrides) := d if {
	base := {"action": "export", "dataset": "incidents", "force": "btp", "pos_org": "", "recipient": "", "date": "2025-06-01"}
	d := read.decision with input as object.union(base, overrides)
		with data.pathway.index as return_index
}

test_return_for_the_forces_own_analysts_alone if {
	d := decide_return({"org": "force/btp"})
	d.allow
	[g.recipient | some g in d.grants] == ["btp_analysts"]
}

test_return_of_another_force_is_refused if {
	d := decide_return({"org": "force/btp", "force": "metropolitan"})
	not d.allow
	d.reasons == ["only force metropolitan's own supervisors or analysts, scoped to it alone, may export its annual return"]
}

test_return_is_refused_to_a_commissioner if {
	d := decide_return({"org": "icb/QMJ"})
	not d.allow
}

test_return_needs_the_export_flag if {
	no_export := {"recipients": {"force/btp": [with_grant(
		entry("national", "btp_analysts", "force/btp", "2024-04-01", "2027-03-31", ["incidents"], false),
		{"role": "force_analyst", "forces": ["btp"]},
	)]}}
	inp := {"action": "export", "org": "force/btp", "dataset": "incidents", "force": "btp", "pos_org": "", "recipient": "", "date": "2025-06-01"}
	d := read.decision with input as inp with data.pathway.index as no_export
	not d.allow
}
