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
{{if .MismatchTexts}}<h2>Ledger mismatches (first {{len .MismatchTexts}} of {{.Mismatches}})</h2>
<ul>
{{range .MismatchTexts}}<li>{{.}}</li>
{{end}}</ul>
{{end}}{{if .Notes}}<h2>Notes</h2>
<ul>
{{range .Notes}}<li>{{.}}</li>
{{end}}</ul>
{{end}}</body>
</html>
`))

// WriteHTML writes one self-contained HTML page: the numbers of WriteText
// as a table, three inline SVG plots (throughput, latency per second,
// latency distribution), the kept mismatch texts and the notes. No
// external script, stylesheet or font; all text is escaped.
func (s Summary) WriteHTML(w io.Writer) error {
	notes := s.Notes
	if len(s.RulesUnreached) > 0 {
		notes = append([]string{"money rules no checked billing event reached: " + strings.Join(s.RulesUnreached, ", ")}, notes...)
	}
	return pageTemplate.Execute(w, struct {
		Label                             string
		Rows                              []row
		Throughput, Latency, Distribution template.HTML
		Mismatches                        string
		MismatchTexts, Notes              []string
	}{
		Label:         s.Label,
		Rows:          s.rows(),
		Throughput:    s.throughputPlot(),
		Latency:       s.latencyPlot(),
		Distribution:  s.distributionPlot(),
		Mismatches:    groupInt(s.Mismatches),
		MismatchTexts: s.MismatchTexts,
		Notes:         notes,
	})
}
