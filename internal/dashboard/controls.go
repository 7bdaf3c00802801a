package dashboard

// Controls says which of the page's steering controls the run obeys. The
// page offers only those; it shows the others disabled, with Why, and the
// server refuses them with 409 and Why.
type Controls struct {
	Stop  bool `json:"stop"`
	Users bool `json:"users"` // the users form: user count and spawn rate
	Reset bool `json:"reset"` // reset statistics
	// Why is one line saying why the controls that are off are off.
	Why string `json:"why,omitempty"`
}

// The reasons of Controls.Why.
const (
	whyMaster   = "a distributed run's users are set by its script and flags, and its statistics are merged from its workers: the dashboard can only stop it"
	whyStopOnly = "this run can only be stopped from the dashboard"
	whyNone     = "this run cannot be steered from the dashboard"
)

// controls is what the run of o obeys: everything with an engine Control,
// only Stop with a Stop function alone (a distributed master), else
// nothing.
func controls(o Options) Controls {
	switch {
	case o.Control != nil:
		return Controls{Stop: true, Users: true, Reset: true}
	case o.Stop != nil && o.Distributed:
		return Controls{Stop: true, Why: whyMaster}
	case o.Stop != nil:
		return Controls{Stop: true, Why: whyStopOnly}
	}
	return Controls{Why: whyNone}
}
