package measures

// PopulationSource names where the resident populations come from.
const PopulationSource = "ONS, Census 2021: usual resident population (table TS001) and by broad ethnic group " +
	"(table TS021), England and Wales, rounded to the nearest 100"

// PopulationYear is the year the populations describe.
const PopulationYear = 2021

// ForcePopulations returns the resident population of each territorial
// police force area the catalogue holds a figure for, keyed by force id.
// Rates per resident are computed only for these forces; British
// Transport Police polices the railway, not an area, and has none.
//
//   - metropolitan: the 32 London boroughs, i.e. the London region
//     (8,799,800) less the City of London (8,600).
//   - city-of-london: the City of London local authority district (8,600).
//
// Add a force here with its Census 2021 figure before publishing its rate.
func ForcePopulations() map[string]float64 {
	return map[string]float64{
		"metropolitan":   8_791_200,
		"city-of-london": 8_600,
	}
}

// GroupPopulation is a force area's resident population by ONS broad
// ethnic group, the denominators of the ethnic disparity measure.
type GroupPopulation struct {
	White, Mixed, Asian, Black, Other float64
}

// EthnicGroupPopulations returns the resident population by broad ethnic
// group of the force areas that have one, keyed by force id.
//
// metropolitan uses the London region figures of Census 2021 TS021 (White
// 53.8%, Asian 20.7%, Black 13.5%, Mixed 5.7%, Other 6.3% of 8,799,800). They
// include the City of London's 8,600 residents (0.1% of the total), an
// approximation that moves the ratio by far less than its own rounding.
// Other forces have no entry, so the measure yields no rows for them.
func EthnicGroupPopulations() map[string]GroupPopulation {
	return map[string]GroupPopulation{
		"metropolitan": {
			White: 4_731_200,
			Mixed: 505_800,
			Asian: 1_817_600,
			Black: 1_188_400,
			Other: 556_800,
		},
	}
}
