package measures

import "maps"

// NationalForce is the unit British Transport Police is shown as in a
// comparison of regions: it polices the railway in every region, so its
// incidents are counted apart rather than in the regions they happen in.
const NationalForce = "btp"

// Region is an English region or Wales, as ONS codes it.
type Region struct {
	// Code is the ONS code, e.g. "E12000007"; Wales is "W92000004".
	Code string
	// Name is the region's name, e.g. "London".
	Name string
	// Population is the usual resident population (PopulationSource).
	Population float64
}

// Regions returns the nine English regions and Wales, in ONS code order,
// with their Census 2021 usual resident populations (table TS001, rounded
// to the nearest 100: England 56,489,800, Wales 3,107,500).
func Regions() []Region {
	return []Region{
		{"E12000001", "North East", 2_647_100},
		{"E12000002", "North West", 7_417_300},
		{"E12000003", "Yorkshire and The Humber", 5_480_800},
		{"E12000004", "East Midlands", 4_880_100},
		{"E12000005", "West Midlands", 5_950_800},
		{"E12000006", "East of England", 6_334_500},
		{"E12000007", "London", 8_799_800},
		{"E12000008", "South East", 9_278_100},
		{"E12000009", "South West", 5_701_200},
		{"W92000004", "Wales", 3_107_500},
	}
}

// UnitName is the name of a unit of a comparison of regions: a region's
// name, "British Transport Police" for NationalForce, or the code itself.
func UnitName(unit string) string {
	if unit == NationalForce {
		return "British Transport Police"
	}
	for _, r := range Regions() {
		if r.Code == unit {
			return r.Name
		}
	}
	return unit
}

// regionPopulations is Regions' populations by code.
func regionPopulations() map[string]float64 {
	out := map[string]float64{}
	for _, r := range Regions() {
		out[r.Code] = r.Population
	}
	return out
}

// regionUnit is the unit an incident counts in when regions are compared:
// its region, where it began, or NationalForce for British Transport
// Police's.
const regionUnit = "if(force_id = '" + NationalForce + "', '" + NationalForce + "', region_code)"

// mergeMaps returns a map with the entries of both (b's where both have a
// key).
func mergeMaps(a, b map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(a)+len(b))
	maps.Copy(out, a)
	maps.Copy(out, b)
	return out
}
