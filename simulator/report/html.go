package report

import (
	"html/template"
	"io"
	"strings"
)

// The page is also well-formed XML (void elements self-closed, no named
// entities besides the XML ones), so tools and tests can parse it strictly.
var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<title>Load test report{{if .Label}}: {{.Label}}{{end}}</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #222222; max-width: 1040px; }
h1 { font-size: 22px; }
h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 3px 16px 3px 0; border-bottom: 1px solid #eeeeee; font-weight: normal; }
th { color: #555555; }
td { font-variant-numeric: tabular-nums; }
tr.sub th { padding-left: 20px; }
figure { margin: 16px 0; }
li { font-family: monospace; }
tr.better td { color: #1a7f37; }
tr.worse td { color: #cf222e; font-weight: bold; }
p.note { color: #555555; font-size: 13px; margin: 4px 0; }
</style>
</head>
<body>
<h1>Load test report{{if .Label}}: {{.Label}}{{end}}</h1>
<table>
{{range .Rows}}<tr{{if .Sub}} class="sub"{{end}}><th>{{.Key}}</th><td>{{.Value}}</td></tr>
{{end}}</table>
<h2>Plots</h2>
<figure>{{.Throughput}}</figure>
<figure>{{.Latency}}</figure>
<figure>{{.Distribution}}</figure>
{{range .Tables}}{{template "table" .}}{{end}}{{if .ResourcePlots}}<h2>Resources over time</h2>
{{range .ResourcePlots}}<figure>{{.}}</figure>
{{end}}{{end}}{{if .Days.Rows}}{{template "table" .Days}}{{end}}{{if .MismatchTexts}}<h2>Ledger mismatches (first {{len .MismatchTexts}} of {{.Mismatches}})</h2>
<ul>
{{range .MismatchTexts}}<li>{{.}}</li>
{{end}}</ul>
{{end}}{{if .Notes}}<h2>Notes</h2>
<ul>
{{range .Notes}}<li>{{.}}</li>
{{end}}</ul>
{{end}}</body>
</html>
{{define "table"}}<h2>{{.Title}}</h2>
<table>
<tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr>
{{range $i, $r := .Rows}}<tr{{with $.RowClass $i}} class="{{.}}"{{end}}>{{range $r}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{range .Notes}}<p class="note">{{.}}</p>
{{end}}{{end}}`))

// WriteHTML writes one self-contained HTML page: the numbers and tables of
// WriteText, three inline SVG plots (throughput, latency per second,
// latency distribution), two of the sampled processes' CPU and memory
// when there are samples, the charges and credits per simulated day, the
// kept mismatch texts and the notes. No external script, stylesheet or
// font; all text is escaped.
func (s Summary) WriteHTML(w io.Writer) error {
	notes := s.Notes
	if len(s.RulesUnreached) > 0 {
		notes = append([]string{"money rules no checked billing event reached: " + strings.Join(s.RulesUnreached, ", ")}, notes...)
	}
	return pageTemplate.Execute(w, struct {
		Label                             string
		Rows                              []row
		Throughput, Latency, Distribution template.HTML
		Tables                            []table
		ResourcePlots                     []template.HTML
		Days                              table
		Mismatches                        string
		MismatchTexts, Notes              []string
	}{
		Label:         s.Label,
		Rows:          s.rows(),
		Throughput:    s.throughputPlot(),
		Latency:       s.latencyPlot(),
		Distribution:  s.distributionPlot(),
		Tables:        s.tables(),
		ResourcePlots: s.resourcePlots(),
		Days:          s.dayTable(),
		Mismatches:    groupInt(s.Mismatches),
		MismatchTexts: s.MismatchTexts,
		Notes:         notes,
	})
}
