package cluster

import (
	"encoding/json"
	"time"

	"github.com/surgeload/surge/internal/metrics"
	"google.golang.org/grpc/encoding"
)

// Protocol is the version of the messages below; master and worker must
// agree on it and on the surge version.
const Protocol = 2 // 2: setup() runs on the master (Assign.SetupData)

// Timing of the liveness checks. Both sides send at least every Heartbeat.
const (
	Heartbeat     = 500 * time.Millisecond
	WorkerTimeout = 3 * time.Second // the master declares a silent worker lost
	MasterTimeout = 5 * time.Second // a worker stops its load without its master
)

// Loss policies for --on-worker-loss.
const (
	Redistribute = "redistribute"
	Continue     = "continue"
	Abort        = "abort"
)

// ToMaster is a message from a worker; exactly one field is set.
type ToMaster struct {
	Hello  *Hello  `json:",omitempty"`
	Ready  *Ready  `json:",omitempty"`
	Report *Report `json:",omitempty"`
}

// ToWorker is a message from the master; a message with no field set is a
// heartbeat.
type ToWorker struct {
	Welcome *Welcome `json:",omitempty"`
	Bundle  *Bundle  `json:",omitempty"`
	Assign  *Assign  `json:",omitempty"`
	Stop    *Stop    `json:",omitempty"`
}

// Hello opens a worker's stream.
type Hello struct {
	Protocol int
	Version  string
	Token    string
	Name     string
	CPUs     int
	// Index, when set, asks for segment Index of the expected workers
	// (surge worker --worker-index; a Kubernetes completion index).
	Index *int `json:",omitempty"`
}

// Welcome accepts a worker and names it.
type Welcome struct {
	Name string
}

// Ready says the worker built the test from the bundle.
type Ready struct {
	Digest     string // SHA-256 of the bundle as the worker received it
	Err        string // the test could not be built
	Thresholds []*metrics.Threshold
	TrendStats []string
}

// Assign starts one engine run on the worker. SetupData is the result of
// the script's setup(), run once on the master, as JSON ("" for none); it
// is not part of the bundle's digest, which covers the test itself.
type Assign struct {
	ID        int
	Steps     []Step
	SetupData string `json:",omitempty"`
}

// Stop ends the worker's runs; the worker sends its last deltas and exits.
type Stop struct {
	Reason string
	Exit   bool // the run is over: disconnect and exit
	Refuse bool // the worker was refused (its bundle digest differs)
}

// Report is a worker's heartbeat with the metric deltas of its runs.
type Report struct {
	Runs []RunReport `json:",omitempty"`
	CPU  float64     // share of one CPU the worker process used since the last report
}

// RunReport is one engine run's part of a report.
type RunReport struct {
	ID     int
	Deltas []byte   // EncodeDeltas
	VUs    float64  // the run's active VUs
	VUsMax float64  // the VUs the run has created
	Done   *RunDone `json:",omitempty"`
}

// RunDone ends a run: the engine's counts, the distinct errors, and the
// worker's own count of requests, for cross-checking.
type RunDone struct {
	Iterations, Exceptions, Interrupts, Dropped int64
	Requests                                    int64
	Aborted                                     string `json:",omitempty"`
	Err                                         string `json:",omitempty"`
	Errors                                      []metrics.ErrorEntry
}

// codec is gRPC's codec for these messages: JSON, with the deltas inside as
// a compact binary field.
type codec struct{}

// CodecName is the gRPC content subtype of the cluster protocol.
const CodecName = "surge-cluster-json"

func (codec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (codec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
func (codec) Name() string                       { return CodecName }

func init() { encoding.RegisterCodec(codec{}) }
