package profile

import (
	"fmt"
	"os"
)

// The load-test runner's use: one profile per stage, a sentence for the
// summary, the top functions for a table.
func ExampleSentence() {
	light := synthetic(map[string]int64{"main.serve;json.Marshal": 12, "main.serve;main.db": 88})
	heavy := synthetic(map[string]int64{"main.serve;json.Marshal": 38, "main.serve;main.db": 62})
	fmt.Println("at 100 users, " + Sentence(light, heavy))
	for _, f := range TopFunctions(heavy, 2) {
		fmt.Printf("%-12s self %.0f%%  total %.0f%%\n", f.Name, 100*f.SelfShare, 100*f.TotalShare)
	}
	// Output:
	// at 100 users, 38% of CPU is in json.Marshal, up from 12%
	// main.db      self 62%  total 62%
	// json.Marshal self 38%  total 38%
}

func ExampleWriteCollapsed() {
	p := synthetic(map[string]int64{"main.main;main.serve+main.parse": 3, "main.main;main.idle": 1})
	WriteCollapsed(os.Stdout, p, 0)
	// Output:
	// main.main;main.idle 1
	// main.main;main.serve;main.parse 3
}
