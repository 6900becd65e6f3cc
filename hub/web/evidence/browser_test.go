package evidence_test

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/pathwayhub/pathwayhub/hub/web/evidence"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// artifactsDir is where browser tests leave their screenshots and PDFs:
// $PATHWAY_TEST_ARTIFACTS, else var/test-artifacts in the repository (which
// CI keeps as an artifact).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PATHWAY_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "var", "test-artifacts")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return dir
}

// pdfPage matches a page object of a PDF (not the /Pages tree nodes).
var pdfPage = regexp.MustCompile(`/Type\s*/Page\b`)

// testBrowser loads the commissioner's page in headless Chromium through
// the login link, checks that nothing went wrong in the console, counts
// the charts and one chart's points against the API, prints it to PDF and
// checks the page count, and saves a screenshot.
//
// The period is the last three published months, so that every measure's
// section (charts, funnel and a three-row table) fits on one A4 page: the
// print stylesheet starts the cover (provenance and summary), each
// measure and the method on a new page, so the PDF has exactly
// 1 + measures + 1 pages. A section that overflowed its page would add one.
func testBrowser(t *testing.T, f *fixture) {
	browser := evidence.FindChromium()
	if browser == "" {
		t.Fatal("chromium is not on PATH; install it with `make deps` (Debian package chromium)")
	}
	latest, err := f.listSeries(t, nclToken, &pathwayv1.ListSeriesRequest{Recipient: "ncl_icb"})
	if err != nil {
		t.Fatal(err)
	}
	to, err := time.Parse("2006-01", latest.GetTo())
	if err != nil {
		t.Fatal(err)
	}
	from := to.AddDate(0, -2, 0).Format("2006-01")
	api, err := f.listSeries(t, nclToken, &pathwayv1.ListSeriesRequest{Recipient: "ncl_icb", From: from, To: latest.GetTo()})
	if err != nil {
		t.Fatal(err)
	}
	var wantCharts int
	var sample *pathwayv1.ForceSeries
	var sampleID string
	for _, m := range api.GetMeasures() {
		for _, s := range m.GetForces() {
			wantCharts++
			if sample == nil || (m.GetId() == "s136_detentions" && s.GetForce() == "metropolitan") {
				sample, sampleID = s, "spc-"+m.GetId()+"-"+s.GetForce()
			}
		}
	}
	wantCharts += len(api.GetFunnels())
	if sample == nil {
		t.Fatal("the API returns no series to look for")
	}

	q := url.Values{"from": {from}, "to": {latest.GetTo()}}
	login := f.info.URL + f.loginLink(t, nclToken, "/evidence/ncl_icb?"+q.Encode())
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctxTimeout(t, 3*time.Minute), opts...)
	defer cancelAlloc()
	var mu sync.Mutex
	var problems []string
	listen := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, fmt.Sprintf("exception: %s at %s:%d", ev.ExceptionDetails.Text, ev.ExceptionDetails.URL, ev.ExceptionDetails.LineNumber))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				problems = append(problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				problems = append(problems, fmt.Sprintf("log %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		}
	}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(listen))
	defer cancel()

	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(login), chromedp.WaitReady(chromedp.CSS("main"))); err != nil {
		t.Fatalf("chromium: load %s: %v", login, err)
	}
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('h1').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('svg.chart').length`))
	if err != nil {
		t.Fatal(err)
	}
	points, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll('#%s svg.chart .pt').length`, sampleID)))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPrintBackground(),
		func(p *page.PrintToPDFParams) { yes := true; p.PreferCSSPageSize = &yes }))
	if err != nil {
		t.Fatalf("print to PDF: %v", err)
	}
	// Late console messages arrive asynchronously; give them a moment.
	time.Sleep(200 * time.Millisecond)

	dir := artifactsDir(t)
	pngPath, pdfPath := filepath.Join(dir, "evidence-ncl_icb.png"), filepath.Join(dir, "evidence-ncl_icb.pdf")
	for path, data := range map[string][]byte{pngPath: png, pdfPath: pdf} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot %s (%d bytes), PDF %s (%d bytes)", pngPath, len(png), pdfPath, len(pdf))

	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("the page logged %d problems:\n%s", len(problems), strings.Join(problems, "\n"))
	}
	if strings.Contains(location, "token=") || strings.Contains(location, "code=") || !strings.Contains(location, "/evidence/ncl_icb") {
		t.Errorf("after the login link the browser is at %s, want the page without its code", location)
	}
	if !strings.Contains(heading, "ncl_icb") {
		t.Errorf("heading %q", heading)
	}
	if charts != wantCharts {
		t.Errorf("the browser counts %d SVG charts, want %d (SPC series and funnels from the API)", charts, wantCharts)
	}
	if want := countValues(sample); points != want || want == 0 {
		t.Errorf("chart %s has %d points in the browser, the API %d values", sampleID, points, want)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Error("the screenshot is not a PNG")
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("the print is not a PDF (%d bytes)", len(pdf))
	}
	wantPages := 1 + len(api.GetMeasures()) + 1
	if got := len(pdfPage.FindAll(pdf, -1)); got != wantPages {
		t.Errorf("the PDF has %d pages, want %d (cover, %d measures, method)", got, wantPages, len(api.GetMeasures()))
	}
}
