# METADATA
# title: Submit
# description: |
#   May input.org store records of input.dataset for input.force?
#   A controller of an agreement in force that covers the dataset may.
#   A force submits only its own incidents. A trust updates only incidents
#   whose place of safety is its own (input.pos_org), under an agreement that
#   names the incident's force as a controller too.
package pathway.submit

import data.pathway.index
import data.pathway.lib

# index.controllers[org] is {kind, code, datasets: {dataset: [agreement]}},
# each agreement {agreement, valid_from, valid_until, forces: {force: true}}
# in id order, where forces are the force controllers.

# An allowed decision leaves its reasons for the engine to word, one per
# agreement, which keeps the common path short.
decision := {
	"allow": true,
	"reasons": [],
	"agreements": usable,
	"grants": [],
} if {
	org := index.controllers[input.org]
	owns(org)
	usable := [a.agreement |
		some a in org.datasets[input.dataset]
		a.valid_from <= input.date
		input.date <= a.valid_until
		a.forces[input.force]
	]
	usable != []
} else := {
	"allow": false,
	"reasons": reasons,
	"agreements": [],
	"grants": [],
}

# owns holds when the org may touch the incident at all: a force its own
# incidents, a trust those at its own place of safety.
owns(org) if {
	org.kind == "force"
	input.force == org.code
}

owns(org) if {
	org.kind == "trust"
	input.pos_org == org.code
}

reasons := sort(deny) if count(deny) > 0

else := ["no agreement in force permits this submission"]

# The rest explains a refusal, and is evaluated only for one.

parts := split(input.org, "/")

kind := parts[0]

code := parts[1]

default candidates := []

candidates := index.controllers[input.org].datasets[input.dataset]

active := [a |
	some a in candidates
	a.valid_from <= input.date
	input.date <= a.valid_until
]

# deny gives every reason a submission is refused.
deny contains sprintf("dataset %q is not one of incidents, health_updates", [input.dataset]) if {
	not input.dataset in lib.datasets
}

deny contains "the incident's force is not given" if {
	input.force == ""
}

deny contains sprintf("%s is not a controller of any agreement covering %q", [input.org, input.dataset]) if {
	input.dataset in lib.datasets
	candidates == []
}

deny contains reason if {
	active == []
	some a in candidates
	reason := lib.inactive_reason(a, input.date)
}

deny contains sprintf("%s may submit only its own incidents, not those of force %q", [input.org, input.force]) if {
	kind == "force"
	input.force != ""
	input.force != code
}

# A trust may update only incidents taken to its own places of safety. The
# reason is the same whether the incident is another trust's or unknown
# (pos_org empty), so a rejection tells a trust nothing about incidents it
# may not see; the audit row keeps pos_org.
deny contains sprintf("not yours to update: %s may update only incidents at its own places of safety", [input.org]) if {
	kind == "trust"
	input.pos_org != code
}

deny contains msg if {
	kind == "trust"
	input.force != ""
	active != []
	not any_with_force
	msg := sprintf("no agreement in force covering %q names both %s and force/%s as controllers", [input.dataset, input.org, input.force])
}

any_with_force if {
	some a in active
	a.forces[input.force]
}
