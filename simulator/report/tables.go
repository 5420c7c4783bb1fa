package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// table is a titled grid of the report. The text and the HTML report are
// both written from the same cells, so they cannot disagree.
type table struct {
	Title  string
	Header []string
	Rows   [][]string
	Notes  []string // lines under the table
	// Verdicts, when set, holds one verdict per row (Better, Worse, Same)
	// for the HTML to colour.
	Verdicts []string
}

// tables are the report's tables after its numbers, for both the text
// and the HTML: latency by command type, by stage, the resources and the
// comparison with a baseline. Empty ones are left out.
func (s Summary) tables() []table {
	var ts []table
	for _, t := range []table{s.typeTable(), s.stageTable(), s.resourceTable(), s.baselineTable()} {
		if len(t.Rows) > 0 {
			ts = append(ts, t)
		}
	}
	return ts
}

// rowsOf writes one row of cells per item.
func rowsOf[T any](items []T, cells func(T) []string) [][]string {
	var rows [][]string
	for _, it := range items {
		rows = append(rows, cells(it))
	}
	return rows
}

func (s Summary) typeTable() table {
	return table{Title: "Latency by command type (publish to first event)",
		Header: []string{"command type", "commands", "p50", "p95", "p99", "max"},
		Rows: rowsOf(s.LatencyByType, func(l TypeLatency) []string {
			return []string{l.Type, groupInt(l.Count), formatLatency(l.P50), formatLatency(l.P95), formatLatency(l.P99), formatLatency(l.Max)}
		})}
}

func (s Summary) stageTable() table {
	t := table{Title: "Latency by stage",
		Header: []string{"stage", "commands", "p50", "p99", "max", "ended before it began"},
		Rows: rowsOf(s.Stages, func(st StageLatency) []string {
			return []string{st.Stage, groupInt(st.Count), formatLatency(st.P50), formatLatency(st.P99), formatLatency(st.Max), groupInt(st.Negative)}
		})}
	if len(t.Rows) > 0 {
		t.Notes = append(t.Notes, "stored: the simulator received JetStream's PubAck; committed: the processor's commit returned "+
			"(Csp-Committed-At, its clock); received: the simulator received the command's first event")
		if s.StagesWithoutCommit > 0 {
			t.Notes = append(t.Notes, fmt.Sprintf("%s commands' first event carried no commit time: they count in the stages without \"committed\" only",
				groupInt(s.StagesWithoutCommit)))
		}
	}
	return t
}

func (s Summary) resourceTable() table {
	return table{Title: "Resources (CPU and memory sampled every " + s.sampleInterval() + ")",
		Header: []string{"process", "CPU mean (cores)", "CPU peak (cores)", "CPU time", "CPU per command", "RSS peak", "RSS at end"},
		Rows: rowsOf(s.Resources, func(r ResourceSeries) []string {
			perCommand := "-"
			if s.Completed > 0 {
				perCommand = formatLatency(r.CPU / time.Duration(s.Completed))
			}
			return []string{r.Name, cores(r.CoresMean), cores(r.CoresPeak), formatSpan(r.CPU), perCommand, formatBytes(r.RSSPeak), formatBytes(r.RSSLast)}
		})}
}

// sampleInterval is the mean interval of the first series' samples,
// rounded to a tenth of a second.
func (s Summary) sampleInterval() string {
	if len(s.Resources) == 0 || len(s.Resources[0].Samples) == 0 {
		return "-"
	}
	r := s.Resources[0]
	return formatSpan((r.Span / time.Duration(len(r.Samples))).Round(100 * time.Millisecond))
}

func cores(c float64) string { return strconv.FormatFloat(c, 'f', 2, 64) }

func (s Summary) baselineTable() table {
	c := s.Baseline
	if c == nil {
		return table{}
	}
	title := "Compared with the baseline " + c.File
	if c.Label != "" {
		title += " (" + c.Label + ", " + c.Start.Format(timeLayout) + ")"
	}
	t := table{Title: title, Header: []string{"metric", "baseline", "this run", "change", "verdict"}}
	for _, d := range c.Deltas {
		verdict := d.Verdict
		if verdict == Worse {
			verdict = "WORSE" // stands out in a terminal
		}
		t.Rows = append(t.Rows, []string{d.Metric, d.format(d.Baseline), d.format(d.Current), d.change(), verdict})
		t.Verdicts = append(t.Verdicts, d.Verdict)
	}
	for _, n := range c.NotCompared {
		t.Notes = append(t.Notes, "not compared: "+n)
	}
	return t
}

// dayTable is the charges and credits per simulated day (HTML only: a
// year has 365 of them).
func (s Summary) dayTable() table {
	return table{Title: "Charges and credits per simulated day",
		Header: []string{"day", "charges", "charged", "credits", "credited"},
		Rows: rowsOf(s.BillingByDay, func(d DayBilling) []string {
			return []string{d.Day, groupInt(d.Charges), amounts(d.ChargedMinor, s.CurrencyExponents),
				groupInt(d.Credits), amounts(d.CreditedMinor, s.CurrencyExponents)}
		})}
}

// amounts writes "USD 1,234.56, EUR 10.00", or "-" without any.
func amounts(byCurrency map[string]int64, exps map[string]int) string {
	if len(byCurrency) == 0 {
		return "-"
	}
	return strings.TrimSuffix(strings.TrimPrefix(moneyList(byCurrency, exps), " ("), ")")
}

// RowClass is row i's verdict, for the HTML to colour ("" without one).
func (t table) RowClass(i int) string {
	if i < len(t.Verdicts) {
		return t.Verdicts[i]
	}
	return ""
}
