package pathway.submit_test

import data.pathway.submit

agreement(id, from, until, forces) := {
	"agreement": id,
	"valid_from": from,
	"valid_until": until,
	"forces": {f: true | some f in forces},
}

london := agreement("london", "2024-04-01", "2027-03-31", ["btp", "metropolitan"])

national := agreement("national", "2024-04-01", "2027-03-31", ["btp"])

old := agreement("old", "2020-01-01", "2021-12-31", ["cumbria"])

future := agreement("future", "2027-01-01", "2028-12-31", ["kent"])

controller(org, datasets) := {"kind": kind, "code": code, "datasets": datasets} if {
	[kind, code] := split(org, "/")
}

index := {"controllers": {
	"force/btp": controller("force/btp", {"incidents": [london, national], "health_updates": [london, national]}),
	"force/metropolitan": controller("force/metropolitan", {"incidents": [london]}),
	"trust/RV3": controller("trust/RV3", {"health_updates": [london]}),
	"trust/RXV": controller("trust/RXV", {"health_updates": [national]}),
	"force/cumbria": controller("force/cumbria", {"incidents": [old]}),
	"force/kent": controller("force/kent", {"incidents": [future]}),
}}

decide(overrides) := d if {
	base := {"action": "submit", "dataset": "incidents", "force": "", "pos_org": "", "recipient": "", "date": "2025-06-01"}
	d := submit.decision with input as object.union(base, overrides)
		with data.pathway.index as index
}

test_force_submits_its_own_incidents if {
	d := decide({"org": "force/btp", "force": "btp"})
	d.allow
	d.agreements == ["london", "national"]
	d.reasons == []
}

test_force_cannot_submit_another_forces_incidents if {
	d := decide({"org": "force/metropolitan", "force": "btp"})
	not d.allow
	d.reasons == ["force/metropolitan may submit only its own incidents, not those of force \"btp\""]
}

test_force_must_be_given if {
	d := decide({"org": "force/btp"})
	not d.allow
	"the incident's force is not given" in d.reasons
}

test_stranger_is_not_a_controller if {
	d := decide({"org": "force/essex", "force": "essex"})
	not d.allow
	d.reasons == ["force/essex is not a controller of any agreement covering \"incidents\""]
	d.agreements == []
}

test_dataset_not_covered if {
	d := decide({"org": "force/metropolitan", "force": "metropolitan", "dataset": "health_updates"})
	not d.allow
	d.reasons == ["force/metropolitan is not a controller of any agreement covering \"health_updates\""]
}

test_unknown_dataset if {
	d := decide({"org": "force/btp", "force": "btp", "dataset": "people"})
	not d.allow
	"dataset \"people\" is not one of incidents, health_updates" in d.reasons
}

test_expired_agreement_names_its_last_day if {
	d := decide({"org": "force/cumbria", "force": "cumbria"})
	not d.allow
	d.reasons == ["agreement \"old\" expired on 2021-12-31"]
}

test_future_agreement_names_its_first_day if {
	d := decide({"org": "force/kent", "force": "kent"})
	not d.allow
	d.reasons == ["agreement \"future\" is not valid until 2027-01-01"]
}

test_validity_is_inclusive if {
	decide({"org": "force/kent", "force": "kent", "date": "2027-01-01"}).allow
	decide({"org": "force/kent", "force": "kent", "date": "2028-12-31"}).allow
	not decide({"org": "force/kent", "force": "kent", "date": "2029-01-01"}).allow
}

test_trust_updates_incidents_at_its_own_place_of_safety if {
	d := decide({"org": "trust/RV3", "dataset": "health_updates", "force": "btp", "pos_org": "RV3"})
	d.allow
	d.agreements == ["london"]
}

test_trust_cannot_update_another_trusts_incident if {
	d := decide({"org": "trust/RV3", "dataset": "health_updates", "force": "btp", "pos_org": "RXV"})
	not d.allow
	d.reasons == ["not yours to update: trust/RV3 may update only incidents at its own places of safety"]
}

test_trust_needs_the_place_of_safety if {
	d := decide({"org": "trust/RV3", "dataset": "health_updates", "force": "btp"})
	not d.allow
	d.reasons == ["not yours to update: trust/RV3 may update only incidents at its own places of safety"]
}

test_trust_needs_an_agreement_with_the_force if {
	d := decide({"org": "trust/RXV", "dataset": "health_updates", "force": "metropolitan", "pos_org": "RXV"})
	not d.allow
	d.reasons == ["no agreement in force covering \"health_updates\" names both trust/RXV and force/metropolitan as controllers"]
}

test_trust_uses_only_agreements_with_the_force if {
	d := decide({"org": "trust/RXV", "dataset": "health_updates", "force": "btp", "pos_org": "RXV"})
	d.allow
	d.agreements == ["national"]
}

test_submit_grants_nothing if {
	d := decide({"org": "force/btp", "force": "btp"})
	d.grants == []
}
