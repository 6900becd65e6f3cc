package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// RegoTestResult is the outcome of one Rego unit test (a test_ rule in
// rego/*_test.rego).
type RegoTestResult struct {
	// Name is "package.rule", e.g. "data.pathway.submit_test.test_expired".
	Name string
	// Pass reports whether the test passed.
	Pass bool
	// Message says why it did not: a failed expression or an error.
	Message string
}

// CheckRego compiles the embedded policies and their tests in strict mode,
// as `opa check --strict` does, and returns every error.
func CheckRego() error {
	mods, err := allModules()
	if err != nil {
		return err
	}
	c := strictCompiler()
	if c.Compile(mods); c.Failed() {
		return fmt.Errorf("policy: rego check: %w", c.Errors)
	}
	return nil
}

// RegoTests runs the embedded Rego unit tests and returns one result per
// test, sorted by name. The error reports only a failure to run them.
func RegoTests(ctx context.Context) ([]RegoTestResult, error) {
	mods, err := allModules()
	if err != nil {
		return nil, err
	}
	ch, err := tester.NewRunner().
		SetCompiler(strictCompiler()).
		SetModules(mods).
		RaiseBuiltinErrors(true).
		RunTests(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("policy: rego tests: %w", err)
	}
	var out []RegoTestResult
	for r := range ch {
		res := RegoTestResult{Name: r.Package + "." + r.Name, Pass: r.Pass()}
		switch {
		case r.Error != nil:
			res.Message = r.Error.Error()
		case r.Fail && r.FailedAt != nil:
			res.Message = fmt.Sprintf("failed at %s: %s", r.FailedAt.Location, r.FailedAt)
		case r.Fail:
			res.Message = "failed"
		case r.Skip:
			res.Message = "skipped"
		}
		out = append(out, res)
	}
	slices.SortFunc(out, func(a, b RegoTestResult) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// RunRegoTests runs the embedded Rego unit tests and counts them. The error
// is non-nil when a test fails (naming each) or the tests cannot run.
func RunRegoTests(ctx context.Context) (passed, failed int, err error) {
	results, err := RegoTests(ctx)
	if err != nil {
		return 0, 0, err
	}
	var errs []error
	for _, r := range results {
		if r.Pass {
			passed++
			continue
		}
		failed++
		errs = append(errs, fmt.Errorf("%s: %s", r.Name, r.Message))
	}
	if failed > 0 {
		return passed, failed, fmt.Errorf("policy: %d of %d rego tests failed:\n%w", failed, passed+failed, errors.Join(errs...))
	}
	return passed, failed, nil
}

func allModules() (map[string]*ast.Module, error) {
	srcs, err := regoSources(true)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	mods, err := parseModules(srcs)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return mods, nil
}

func strictCompiler() *ast.Compiler {
	return ast.NewCompiler().
		WithCapabilities(ast.CapabilitiesForThisVersion()).
		WithDefaultRegoVersion(ast.RegoV1).
		WithEnablePrintStatements(true).
		WithUseTypeCheckAnnotations(true).
		WithStrict(true)
}

// CheckReport is what Check found.
type CheckReport struct {
	// Agreements are the agreements loaded, sorted by id.
	Agreements []Agreement
	// Revision is the revision an Engine over the directory would have.
	Revision string
	// RegoPassed and RegoFailed count the Rego unit tests.
	RegoPassed, RegoFailed int
}

// Check is everything `pathwayhub agreements check DIR` needs: it loads and
// validates the agreements under dir, compiles them with the policies as an
// Engine would, checks the policies strictly and runs the Rego tests. The
// error joins every problem found; the report holds what could be learnt.
func Check(ctx context.Context, dir string, measures []string) (CheckReport, error) {
	var (
		report CheckReport
		errs   []error
	)
	if b, err := buildBundle(ctx, dir, measures); err != nil {
		errs = append(errs, err)
	} else {
		report.Agreements, report.Revision = b.agreements, b.revision
	}
	if err := CheckRego(); err != nil {
		errs = append(errs, err)
	}
	passed, failed, err := RunRegoTests(ctx)
	report.RegoPassed, report.RegoFailed = passed, failed
	if err != nil {
		errs = append(errs, err)
	}
	return report, errors.Join(errs...)
}
