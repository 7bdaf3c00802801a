package bench

import (
	"fmt"
	"strconv"
	"strings"
)

// Param is one parameter of a scan: a name and the values it takes. A
// command's {name} placeholders are replaced by each value in turn.
type Param struct {
	Name   string
	Values []string
}

// RangeParam returns the parameter scan name = lo, lo+step, …, ≤ hi, as
// hyperfine's -P name lo hi (with -D step). Integers stay integers in the
// substituted text.
func RangeParam(name, lo, hi, step string) (Param, error) {
	l, err1 := strconv.ParseFloat(lo, 64)
	h, err2 := strconv.ParseFloat(hi, 64)
	s, err3 := strconv.ParseFloat(step, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return Param{}, fmt.Errorf("parameter scan %s: bounds %q..%q and step %q must be numbers", name, lo, hi, step)
	}
	if s <= 0 {
		return Param{}, fmt.Errorf("parameter scan %s: step must be positive, got %v", name, s)
	}
	if h < l {
		return Param{}, fmt.Errorf("parameter scan %s: upper bound %v is below lower bound %v", name, h, l)
	}
	if (h-l)/s > 10000 {
		return Param{}, fmt.Errorf("parameter scan %s: more than 10000 values", name)
	}
	p := Param{Name: name}
	for i := 0; ; i++ {
		v := l + float64(i)*s
		if v > h+1e-9*s {
			break
		}
		// Round away binary noise (0.1+0.2) before printing.
		v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
		p.Values = append(p.Values, strconv.FormatFloat(v, 'f', -1, 64))
	}
	return p, nil
}

// Command is one benchmarked command after parameter substitution.
type Command struct {
	// Name is what reports show: the command line unless --command-name
	// gave another.
	Name string
	// Line is the command line as run.
	Line string
	// Params are the scan values substituted into Line, in scan order.
	Params []ParamValue `json:",omitempty"`
}

// ParamValue is one substituted parameter.
type ParamValue struct {
	Name, Value string
}

// Expand substitutes every combination of the scan parameters into each
// command line. Names, when given, name the commands in order (and take the
// same substitutions). With no parameters each line is one command.
func Expand(lines, names []string, params []Param) ([]Command, error) {
	if len(names) > 0 && len(names) != len(lines) {
		return nil, fmt.Errorf("%d command names for %d commands", len(names), len(lines))
	}
	combos := [][]ParamValue{nil}
	for _, p := range params {
		var next [][]ParamValue
		for _, c := range combos {
			for _, v := range p.Values {
				next = append(next, append(append([]ParamValue(nil), c...), ParamValue{p.Name, v}))
			}
		}
		combos = next
	}
	var cmds []Command
	for i, line := range lines {
		for _, combo := range combos {
			c := Command{Line: substitute(line, combo), Params: combo}
			c.Name = c.Line
			if len(names) > 0 {
				c.Name = substitute(names[i], combo)
			}
			cmds = append(cmds, c)
		}
	}
	return cmds, nil
}

func substitute(s string, vals []ParamValue) string {
	for _, v := range vals {
		s = strings.ReplaceAll(s, "{"+v.Name+"}", v.Value)
	}
	return s
}
