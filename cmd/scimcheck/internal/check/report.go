package check

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteLine writes one result as the text report's line: the status, the
// id and the time, then, indented, the message and the exchanges of a
// failure or warning.
func WriteLine(w io.Writer, r Result) error {
	plural := "s"
	if r.Requests == 1 {
		plural = ""
	}
	slowest := ""
	if r.Slowest >= time.Second {
		slowest = fmt.Sprintf(", the slowest %s", round(r.Slowest))
	}
	_, err := fmt.Fprintf(w, "%s %s (%s, %d request%s%s)\n", r.Status, r.ID(), round(r.Duration), r.Requests, plural, slowest)
	if err != nil {
		return err
	}
	if r.Message != "" {
		if _, err := fmt.Fprintf(w, "     %s\n", r.Message); err != nil {
			return err
		}
	}
	for _, ex := range r.Exchanges {
		if _, err := fmt.Fprintf(w, "%s\n", indent(ex, "     | ")); err != nil {
			return err
		}
	}
	return nil
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// WriteSummary writes the text report's last lines: the counts, the
// requests and times, and the cleanup.
func WriteSummary(w io.Writer, rep *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d checks: %d passed, %d failed, %d warnings, %d skipped", len(rep.Results),
		rep.Count(Pass), rep.Count(Fail), rep.Count(Warn), rep.Count(Skip))
	if rep.Interrupted {
		b.WriteString("; interrupted before every check ran")
	}
	fmt.Fprintf(&b, "\n%d requests in %s", rep.Requests, round(rep.Duration))
	if rep.Slowest != "" {
		fmt.Fprintf(&b, "; slowest: %s", rep.Slowest)
	}
	fmt.Fprintf(&b, "\ncleanup: %s\n", rep.Cleanup)
	switch {
	case rep.Count(Fail) > 0:
		b.WriteString("FAIL: Entra ID or another client would refuse or misread what this server answers; fix the FAIL lines above.\n")
	case rep.Interrupted:
		b.WriteString("INTERRUPTED\n")
	default:
		b.WriteString("OK: every mandatory check passed.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteText writes the whole text report: a line per result, then the
// summary.
func WriteText(w io.Writer, rep *Report) error {
	for _, r := range rep.Results {
		if err := WriteLine(w, r); err != nil {
			return err
		}
	}
	return WriteSummary(w, rep)
}

// WriteJSON writes the report as one indented JSON object: the fields of
// [Report], each Result with its status as "PASS", "FAIL", "WARN" or
// "SKIP" and its times in nanoseconds.
func WriteJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// The JUnit XML elements, as CI systems read them: one testsuite per
// suite, one testcase per check; a failure for FAIL, a skipped element
// for SKIP, and a WARN as a passing test whose system-out says why.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Skipped  int         `xml:"skipped,attr"`
		Time     string      `xml:"time,attr"`
		Cases    []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitMessage `xml:"failure"`
		Skipped   *junitMessage `xml:"skipped"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitMessage struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
)

// WriteJUnit writes the report as JUnit XML.
func WriteJUnit(w io.Writer, rep *Report) error {
	out := junitSuites{Name: "scimcheck " + rep.URL, Time: seconds(rep.Duration.Seconds())}
	index := map[string]int{}
	times := map[string]float64{}
	for _, r := range rep.Results {
		i, ok := index[r.Suite]
		if !ok {
			i = len(out.Suites)
			index[r.Suite] = i
			out.Suites = append(out.Suites, junitSuite{Name: r.Suite})
		}
		s := &out.Suites[i]
		c := junitCase{Name: r.Name, Classname: "scimcheck." + r.Suite, Time: seconds(r.Duration.Seconds())}
		detail := r.Message
		if len(r.Exchanges) > 0 {
			detail += "\n\n" + strings.Join(r.Exchanges, "\n\n")
		}
		switch r.Status {
		case Fail:
			c.Failure = &junitMessage{Message: r.Message, Text: detail}
			s.Failures++
			out.Failures++
		case Skip:
			c.Skipped = &junitMessage{Message: r.Message}
			s.Skipped++
			out.Skipped++
		case Warn:
			c.SystemOut = "WARN: " + detail
		default:
			c.SystemOut = r.Message
		}
		s.Cases = append(s.Cases, c)
		s.Tests++
		out.Tests++
		times[r.Suite] += r.Duration.Seconds()
		s.Time = seconds(times[r.Suite])
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }
