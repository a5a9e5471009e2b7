package alerts

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/iorca/iorca/report/content"
)

// PromtoolTest writes a `promtool test rules` file that replays s as
// input series (evaluated every s.Interval) against ruleFile and checks
// each Prometheus alert's claimed first firing: firing at its time, not
// one evaluation before. Log-based alerts are left out: promtool
// evaluates PromQL only.
func PromtoolTest(s *Set, alerts []content.Alert, ruleFile string) string {
	var b strings.Builder
	iv := Duration(s.Interval)
	fmt.Fprintf(&b, "rule_files:\n  - %s\nevaluation_interval: %s\ntests:\n  - interval: %s\n    input_series:\n", strconv.Quote(ruleFile), iv, iv)
	for _, x := range s.Series {
		vals := make([]string, len(x.Values))
		for i, v := range x.Values {
			vals[i] = "_"
			if !math.IsNaN(v) {
				vals[i] = strconv.FormatFloat(v, 'f', -1, 64)
			}
		}
		fmt.Fprintf(&b, "      - series: %s\n        values: %s\n", strconv.Quote(Selector{x.Metric, x.Labels}.String()), strconv.Quote(strings.Join(vals, " ")))
	}
	b.WriteString("    alert_rule_test:\n")
	for _, a := range alerts {
		if a.Kind != "prometheus" {
			continue
		}
		at := time.Duration(a.FiresAfter * float64(time.Second)).Round(time.Millisecond)
		if at >= s.Interval {
			fmt.Fprintf(&b, "      - eval_time: %s\n        alertname: %s\n        exp_alerts: []\n", Duration(at-s.Interval), a.Name)
		}
		fmt.Fprintf(&b, "      - eval_time: %s\n        alertname: %s\n        exp_alerts:\n          - exp_labels:\n", Duration(at), a.Name)
		labels := map[string]string{}
		for k, v := range a.SeriesLabels {
			labels[k] = v
		}
		for k, v := range a.Labels {
			labels[k] = v
		}
		writeMap(&b, labels)
		b.WriteString("            exp_annotations:\n")
		writeMap(&b, a.Annotations)
	}
	return b.String()
}

func writeMap(b *strings.Builder, m map[string]string) {
	if len(m) == 0 {
		b.WriteString("              {}\n")
		return
	}
	for _, k := range sortedKeys(m) {
		fmt.Fprintf(b, "              %s: %s\n", k, strconv.Quote(m[k]))
	}
}
