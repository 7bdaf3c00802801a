package main

import (
	"context"
	"crypto/tls"
	"flag"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/wsvu"
	"github.com/surgeload/surge/internal/runner"
	"github.com/surgeload/surge/internal/vu"
)

func init() {
	register(command{name: "ws", summary: "load-test a WebSocket echo endpoint without a script", run: wsCmd})
}

// wsFlags are surge ws's own flags; the load, threshold and output flags
// are surge run's.
type wsFlags struct {
	send, sendFile string
	binary         bool
	subprotocols   listFlag
	compression    bool
	connectTimeout time.Duration
}

func (w *wsFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&w.send, "send", "", "the message each iteration sends; it then reads one reply (required, or --send-file)")
	fs.StringVar(&w.sendFile, "send-file", "", "read the message from a file")
	fs.BoolVar(&w.binary, "binary", false, "send a binary message instead of text")
	fs.Var(&w.subprotocols, "subprotocol", "offer this subprotocol (repeatable)")
	fs.BoolVar(&w.compression, "compression", false, "offer permessage-deflate")
	fs.DurationVar(&w.connectTimeout, "connect-timeout", 10*time.Second, "time for the opening handshake")
}

func wsCmd(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var f runFlags
	var w wsFlags
	fs := newFlagSet("ws")
	f.define(fs)
	w.define(fs)
	if err := applyDefaults(fs, args, os.Getenv); err != nil {
		return err
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	cfg, err := w.config(ctx, fs, &f)
	if err != nil {
		return err
	}
	return execute(ctx, stdout, stderr, &f, cfg)
}

func (w *wsFlags) config(ctx context.Context, fs *flag.FlagSet, f *runFlags) (runner.Config, error) {
	if fs.NArg() != 1 {
		return runner.Config{}, usageErrorf("want one URL (ws:// or wss://), got %d arguments", fs.NArg())
	}
	url := fs.Arg(0)
	msg, err := w.message()
	if err != nil {
		return runner.Config{}, err
	}
	exec, err := f.executor()
	if err != nil {
		return runner.Config{}, err
	}
	hdr := http.Header{}
	for _, h := range f.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return runner.Config{}, usageErrorf("--header %q: want 'Name: value'", h)
		}
		hdr.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	p := wsvu.Params{Headers: hdr, Subprotocols: w.subprotocols, Name: f.name, Timeout: w.connectTimeout, Compression: w.compression}
	if f.insecure {
		p.TLS = &tls.Config{InsecureSkipVerify: true}
	}
	if err := probe(ctx, url, p); err != nil {
		return runner.Config{}, err
	}
	sc := &engine.Scenario{Name: "default", Executor: exec, GracefulStop: f.gracefulStop,
		NewVU: func(st *vu.State) (engine.VU, error) { return wsvu.NewEchoVU(st, url, p, msg, w.binary), nil }}
	return runner.Config{Scenarios: []*engine.Scenario{sc}}, nil
}

func (w *wsFlags) message() ([]byte, error) {
	switch {
	case w.send != "" && w.sendFile != "":
		return nil, usageErrorf("give --send or --send-file, not both")
	case w.sendFile != "":
		b, err := os.ReadFile(w.sendFile)
		if err != nil {
			return nil, usageErrorf("--send-file: %w", err)
		}
		return b, nil
	case w.send == "":
		return nil, usageErrorf("give the message to send: --send MSG")
	}
	return []byte(w.send), nil
}

// probe opens and closes one session before the run, so that a wrong URL
// or a refused handshake is one error line rather than a run of failures.
func probe(ctx context.Context, url string, p wsvu.Params) error {
	reg := metrics.NewRegistry()
	s, _, err := wsvu.Dial(ctx, vu.New(reg, 1, 0, "probe", reg.Intern()), url, p)
	if err != nil {
		if strings.Contains(err.Error(), "want a ws:// or wss:// URL") {
			return usageErrorf("%w", err)
		}
		return err
	}
	s.Start(func(wsvu.Event) {})
	s.Close(0)
	return nil
}
