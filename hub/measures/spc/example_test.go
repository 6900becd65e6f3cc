package spc_test

import (
	"fmt"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/measures/spc"
)

func ExampleAnalyse() {
	// Percentage of detentions with a prior consultation, monthly; higher is
	// better, the target is 60%.
	values := []float64{47, 49, 46, 50, 48, 47, 51, 49, 48, 50, 52, 49, 55, 56, 57, 58, 58, 59}
	points := make([]spc.Point, len(values))
	for i, v := range values {
		points[i] = spc.Point{Time: time.Date(2024, time.Month(1+i), 1, 0, 0, 0, 0, time.UTC), Value: v}
	}
	target := 60.0
	res, err := spc.Analyse(points, spc.Options{Improvement: spc.Increase, Target: &target})
	if err != nil {
		fmt.Println(err)
		return
	}
	last := res.Points[len(res.Points)-1]
	fmt.Printf("mean %.2f, limits %.2f to %.2f\n", last.Mean, last.LPL, last.UPL)
	fmt.Println("last point:", last.Rule, last.Type)
	fmt.Println("icons:", res.Variation, res.Assurance.Icon())
	// Output:
	// mean 51.61, limits 45.98 to 57.24
	// last point: above_upl special_cause_improvement
	// icons: improvement_high fail
}
