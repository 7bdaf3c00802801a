// Package k8s turns a surge test into Kubernetes manifests for a
// distributed run: one master pod and N worker pods, the same processes as
// `surge master` and `surge worker` on machines of one's own.
//
// # Design
//
// Build is a pure function from Options (names, the script's files, the
// worker count, the run flags) to typed objects of k8s.io/api: a Secret
// with the shared token (unless an existing one is named), a ConfigMap
// with the script's directory, the master Job and its ClusterIP Service,
// and the workers as an Indexed Job. WriteYAML marshals them with
// sigs.k8s.io/yaml, the encoder kubectl itself uses, so the output is what
// the API server's types say and nothing hand-written can drift from them.
// Decode reads such a stream back into the same types strictly (an
// unknown field is an error), which is how the tests check the output.
// Reading files, generating the token and flag parsing stay with the
// caller (cmd/surge).
//
// Only the master needs the script: it ships the test bundle to the
// workers over gRPC, so worker pods mount nothing but a scratch /tmp.
//
// The token reaches both sides as the environment variable SURGE_TOKEN
// from the Secret (surge reads every flag from SURGE_<FLAG>), so it never
// appears in a pod's command line or in the manifests' args.
//
// Each worker gets SURGE_WORKER_INDEX, its completion index, through the
// downward API (the batch.kubernetes.io/job-completion-index annotation),
// and is named worker-<index> in the master's summary. The master still
// hands out segments in the order workers join; a worker flag to claim
// segment i of n would make the index the segment.
//
// Note: a ConfigMap volume presents its keys as symbolic links into a
// hidden ..data directory, and the master's bundle skips both links and
// hidden entries, so a plainly mounted script directory would ship an
// empty bundle. Each file is therefore mounted on its own with subPath,
// which bind-mounts the resolved regular file at its path under /scripts.
//
// Pods set enableServiceLinks: false: Kubernetes would otherwise inject
// variables such as SURGE_MASTER_PORT for a Service named surge-master,
// and surge reads SURGE_* variables as flags.
package k8s
