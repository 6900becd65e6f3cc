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

parts := split(input.org, "/")

kind := parts[0]

code := parts[1]

force_org := concat("/", ["force", input.force])

# candidates are the agreements naming the org as a controller for the
# dataset, each {agreement, valid_from, valid_until, controllers}.
default candidates := []

candidates := index.controllers[input.org][input.dataset]

# owns holds when the org may touch the incident at all: a force its own
# incidents, a trust those at its own place of safety.
owns if {
	kind == "force"
	input.force == code
}

owns if {
	kind == "trust"
	input.pos_org == code
}

# usable are the ids of the agreements in force under which the submission
# may be made: they name the incident's force as a controller too (for a
# force that owns the incident, itself).
usable := [a.agreement |
	some a in candidates
	a.valid_from <= input.date
	input.date <= a.valid_until
	a.controllers[force_org]
]

decision := {
	"allow": true,
	"reasons": [sprintf("allowed under agreement %q", [id]) | some id in usable],
	"agreements": usable,
	"grants": [],
} if {
	owns
	usable != []
} else := {
	"allow": false,
	"reasons": reasons,
	"agreements": [],
	"grants": [],
}

reasons := sort(deny) if count(deny) > 0

else := ["no agreement in force permits this submission"]

# The rest explains a refusal, and is evaluated only for one.

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

deny contains sprintf("the incident's place of safety is not known, so %s may not update it", [input.org]) if {
	kind == "trust"
	input.pos_org == ""
}

deny contains sprintf("%s may update only incidents at its own places of safety, not at %q", [input.org, input.pos_org]) if {
	kind == "trust"
	input.pos_org != ""
	input.pos_org != code
}

deny contains msg if {
	kind == "trust"
	input.force != ""
	active != []
	usable == []
	msg := sprintf("no agreement in force covering %q names both %s and %s as controllers", [input.dataset, input.org, force_org])
}
