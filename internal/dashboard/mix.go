package dashboard

import "github.com/surgeload/surge/internal/engine"

// MixRow is one line of Locust's "current user mix": a user class of a
// scenario with its active users, or the scenario itself when its users
// have no classes (Class is then empty).
type MixRow struct {
	Scenario   string  `json:"scenario"`
	Class      string  `json:"class"`
	Users      int     `json:"users"`
	Share      float64 `json:"share"`                 // percent of all active users
	Weight     int     `json:"weight,omitempty"`      // the class's weight, when the script gives it
	FixedCount int     `json:"fixed_count,omitempty"` // the class's fixed count, when the script gives it
}

// mixRows flattens the engine's user mix into table rows: one per class,
// or one per scenario whose users have no class.
func mixRows(mix []engine.ScenarioUsers) []MixRow {
	total := 0
	for _, sc := range mix {
		total += sc.Users
	}
	share := func(n int) float64 {
		if total == 0 {
			return 0
		}
		return 100 * float64(n) / float64(total)
	}
	out := []MixRow{}
	for _, sc := range mix {
		if len(sc.Classes) == 0 {
			out = append(out, MixRow{Scenario: sc.Scenario, Users: sc.Users, Share: share(sc.Users)})
			continue
		}
		for _, c := range sc.Classes {
			out = append(out, MixRow{Scenario: sc.Scenario, Class: c.Name, Users: c.Users, Share: share(c.Users),
				Weight: c.Weight, FixedCount: c.FixedCount})
		}
	}
	return out
}

// scenarioUsers is the users of each scenario for the users chart's
// per-scenario lines; nil with fewer than two scenarios (the total line
// says it all).
func scenarioUsers(mix []engine.ScenarioUsers) map[string]float64 {
	if len(mix) < 2 {
		return nil
	}
	out := make(map[string]float64, len(mix))
	for _, sc := range mix {
		out[sc.Scenario] = float64(sc.Users)
	}
	return out
}
