// Package profile samples CPU stacks of any Linux process and of Go
// services, and renders them as pprof profiles, collapsed stacks,
// speedscope JSON and self-contained HTML flame graphs.
//
// # Design
//
// Sampling (sampler_linux.go, perf_linux.go) uses perf_event_open with the
// software cpu-clock event, so it works in VMs without a PMU. One event is
// opened per thread (pid = tid, cpu = -1) in frequency mode, each with its
// own small mmap ring buffer; the kernel unwinds user call chains by frame
// pointer (Go keeps them on amd64; C needs -fno-omit-frame-pointer). A
// goroutine drains the rings every 20 ms, rescans /proc/PID/task every
// 100 ms to follow new threads (and /proc/PID/task/*/children with
// Subprocesses), and aggregates samples by stack as they arrive, so memory
// grows with distinct stacks, not with time.
//
// A launched command (StartCommand) is sampled differently: it is started
// traced, stops at exec, and gets one inherited event per CPU (the kernel
// will not mmap an inherited per-task event), so every thread and child it
// creates is sampled from birth; the events' fork, exec (comm) and mmap2
// records maintain each child's address map, so children too short-lived
// for /proc/PID/maps to be read are still symbolized. An existing process cannot be covered that
// way, since inheritance only reaches threads created after the event.
//
// Symbolization (symbolize.go, dwarf.go) is deferred until a profile is
// cut. Each process's /proc/PID/maps is snapshotted when it is first seen,
// whenever a sample falls outside the known mappings, and once a second,
// so a process that has exited can still be symbolized. ELF files are
// opened through /proc/PID/root (containers) and tried in order: DWARF
// line tables with inlined frames, the Go pclntab (which survives
// stripping), .symtab/.dynsym. Addresses in anonymous memory are looked up
// in /tmp/perf-PID.map (JITs: Python -X perf, node --perf-basic-prof, JVM
// agents). Anything unresolved is named module+0xoffset, never dropped.
//
// Go services are profiled through net/http/pprof (fetch.go): a Session on
// a URL fetches back-to-back one-second CPU profiles and merges them on
// Cut or Stop.
//
// Everything downstream is pure over *profile.Profile from
// github.com/google/pprof/profile: BuildTree, TopFunctions, TopChanges,
// Sentence, Lines, WriteCollapsed, WriteSpeedscope, WriteFlameGraph and
// WriteDiffFlameGraph.
package profile
