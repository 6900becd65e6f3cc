# METADATA
# title: Submit
# description: |
#   May input.org store records of input.dataset for input.force?
#   A controller of an agreement in force that covers the dataset may.
#   A force submits only its own incidents. A trust updates only incidents
#   whose place of safety is its own (input.pos_org), under an agreement that
#   names the incident's force as a controller too.
package pathway.submit

import data.pathway.agreements
import data.pathway.index
import data.pathway.lib

parts := split(input.org, "/")

kind := parts[0]

code := parts[1]

# candidates are the agreements naming the org as a controller for the dataset.
candidates := object.get(index.controllers, [input.org, input.dataset], [])

active contains id if {
	some id in candidates
	lib.active(agreements[id], input.date)
}

# usable are the active agreements under which this submission may be made.
usable contains id if {
	some id in active
	kind == "force"
}

usable contains id if {
	some id in active
	kind == "trust"
	agreements[id].controllers[concat("/", ["force", input.force])]
}

deny contains sprintf("dataset %q is not one of incidents, health_updates", [input.dataset]) if {
	not input.dataset in lib.datasets
}

deny contains "the incident's force is not given" if {
	input.force == ""
}

deny contains sprintf("%s is not a controller of any agreement covering %q", [input.org, input.dataset]) if {
	input.dataset in lib.datasets
	count(candidates) == 0
}

deny contains reason if {
	count(candidates) > 0
	count(active) == 0
	some id in candidates
	reason := lib.inactive_reason(agreements[id], input.date)
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
	count(active) > 0
	count(usable) == 0
	msg := sprintf("no agreement in force covering %q names both %s and force/%s as controllers", [input.dataset, input.org, input.force])
}

allow if {
	count(usable) > 0
	count(deny) == 0
}

reasons := [sprintf("allowed under agreement %q", [id]) | some id in sort(usable)] if allow

else := sort(deny) if count(deny) > 0

else := ["no agreement in force permits this submission"]

decision := {
	"allow": allow,
	"reasons": reasons,
	"agreements": sort(usable),
	"grants": [],
} if allow

else := {
	"allow": false,
	"reasons": reasons,
	"agreements": [],
	"grants": [],
}
