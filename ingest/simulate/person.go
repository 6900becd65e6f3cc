package simulate

import (
	"fmt"

	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// traits are what the force records about a person. They depend only on the
// person, so someone who recurs keeps the same age band, sex and ethnicity in
// every force.
type traits struct {
	age       pathwayv1.AgeBand
	sex       pathwayv1.Sex
	ethnicity pathwayv1.Ethnicity
}

// unknownPerson is recorded when no person was identified.
var unknownPerson = traits{
	age:       pathwayv1.AgeBand_AGE_BAND_NOT_KNOWN,
	sex:       pathwayv1.Sex_SEX_NOT_KNOWN,
	ethnicity: pathwayv1.Ethnicity_ETHNICITY_99_NOT_KNOWN,
}

// traitsOf derives a person's traits from their synthetic id alone.
func traitsOf(personID string) traits {
	r := newRNG(hash64(personID), "traits")
	return traits{
		age:       pick(r, ageBandWeights),
		sex:       pick(r, sexWeights),
		ethnicity: pick(r, ethnicityWeights),
	}
}

// adult reports whether the person is known to be 18 or over.
func (t traits) adult() bool {
	switch t.age {
	case pathwayv1.AgeBand_AGE_BAND_UNDER_18, pathwayv1.AgeBand_AGE_BAND_NOT_KNOWN:
		return false
	default:
		return true
	}
}

// choosePerson returns the synthetic id of the person in an incident: one of
// the people shared by all forces, one of the force's frequent contacts, or
// someone seen only in this incident (named after the force and the
// incident's local number, which together are unique).
func choosePerson(r rng, prof *profile, localNumber string) string {
	x := r.Float64()
	switch {
	case x < sharedPersonShare:
		return fmt.Sprintf("region-person-%04d", r.IntN(sharedPoolSize))
	case x < sharedPersonShare+frequentPersonShare:
		return fmt.Sprintf("%s-frequent-%04d", prof.id, r.IntN(prof.frequentPool))
	default:
		return prof.id + "-person-" + localNumber
	}
}
