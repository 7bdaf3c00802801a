package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"io"
	"os"
	"strings"
	"time"

	"github.com/surgeload/surge/internal/engine"
	"github.com/surgeload/surge/internal/metrics"
	"github.com/surgeload/surge/internal/protocol/grpcvu"
	"github.com/surgeload/surge/internal/runner"
	"github.com/surgeload/surge/internal/vu"
)

func init() {
	register(command{name: "grpc", summary: "load-test one gRPC method without a script (like ghz)", run: grpcCmd})
}

// grpcFlags are surge grpc's own flags; the load, threshold and output
// flags are surge run's (defineGRPCRunFlags).
type grpcFlags struct {
	data, dataFile, protoset      string
	protos, importPaths, metadata listFlag
	plaintext                     bool
	cacert, cert, key, serverName string
	authority                     string
	connections                   int
	connectTimeout                time.Duration
	maxRecv, maxSend              int
	reflectMetadata               listFlag
}

func (g *grpcFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&g.data, "data", "", "the request as JSON, e.g. '{\"name\":\"x\"}' (default {}); a JSON array of messages for client and bidi streams")
	fs.StringVar(&g.dataFile, "data-file", "", "read the JSON request from a file")
	fs.Var(&g.protos, "proto", "proto source file defining the method (repeatable; default: server reflection)")
	fs.Var(&g.importPaths, "import-path", "directory to resolve --proto files and their imports in (repeatable)")
	fs.StringVar(&g.protoset, "protoset", "", "compiled FileDescriptorSet defining the method (protoc -o, buf build -o)")
	fs.Var(&g.metadata, "metadata", "request metadata 'key: value' (repeatable; -H works too)")
	fs.Var(&g.reflectMetadata, "reflect-metadata", "metadata 'key: value' for the reflection request (repeatable)")
	fs.BoolVar(&g.plaintext, "plaintext", false, "no TLS (h2c)")
	fs.StringVar(&g.cacert, "cacert", "", "PEM file of the CA certificates that sign the server's")
	fs.StringVar(&g.cert, "cert", "", "client certificate PEM file (with --key)")
	fs.StringVar(&g.key, "key", "", "client private key PEM file (with --cert)")
	fs.StringVar(&g.serverName, "servername", "", "server name to verify the certificate against (default: the host of ADDR)")
	fs.StringVar(&g.authority, "authority", "", ":authority of the requests (default: ADDR)")
	fs.IntVar(&g.connections, "connections", 1, "connections the VUs share (ghz's default is 1 too)")
	fs.DurationVar(&g.connectTimeout, "connect-timeout", 10*time.Second, "time to establish each connection")
	fs.IntVar(&g.maxRecv, "max-receive-size", 0, "largest reply in bytes (default gRPC's 4 MiB)")
	fs.IntVar(&g.maxSend, "max-send-size", 0, "largest request in bytes (default unlimited)")
}

func grpcCmd(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var f runFlags
	var g grpcFlags
	fs := newFlagSet("grpc")
	f.method = "" // surge run's --method is the HTTP method; here it names the RPC
	defineGRPCRunFlags(fs, &f)
	g.define(fs)
	if err := applyDefaults(fs, args, os.Getenv); err != nil {
		return err
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return httpOnlyFlagError(err)
	}
	cfg, closeConns, err := g.config(ctx, fs, &f)
	if err != nil {
		return err
	}
	defer closeConns()
	return execute(ctx, stdout, stderr, &f, cfg)
}

// httpOnlyFlags are surge run's flags that mean nothing to a gRPC call,
// with what to use instead. surge grpc neither lists nor accepts them.
var httpOnlyFlags = map[string]string{
	"url":                  "surge grpc takes ADDR (host:port)",
	"X":                    "--method names the RPC, pkg.Service/Method",
	"body":                 "the request is --data JSON",
	"body-file":            "the request is --data-file FILE",
	"name":                 "requests are named by their method",
	"keep-response-bodies": "replies are never decoded",
	"h2c":                  "gRPC over h2c is --plaintext",
	"no-http2":             "gRPC is always HTTP/2",
	"include-tag":          "it selects tasks of a script",
	"exclude-tag":          "it selects tasks of a script",
}

// grpcUsage is what surge run's flags that surge grpc shares mean there,
// when that differs from surge run's wording.
var grpcUsage = map[string]string{
	"method":    "the method to call, pkg.Service/Method (required)",
	"header":    "request metadata 'key: value' (repeatable; same as --metadata)",
	"H":         "shorthand for --header",
	"timeout":   "deadline of each call",
	"threshold": "pass/fail criterion 'METRIC: EXPR', e.g. 'grpc_req_duration: p(95)<500' (repeatable)",
}

// defineGRPCRunFlags defines on fs the flags of surge run that apply to a
// gRPC test (load, thresholds, output, TLS verification), bound to f, with
// their gRPC meanings.
func defineGRPCRunFlags(fs *flag.FlagSet, f *runFlags) {
	all := newFlagSet("run")
	def := f.method
	f.define(all)
	f.method = def
	all.VisitAll(func(fl *flag.Flag) {
		if _, http := httpOnlyFlags[fl.Name]; http {
			return
		}
		usage := fl.Usage
		if u, ok := grpcUsage[fl.Name]; ok {
			usage = u
		}
		fs.Var(fl.Value, fl.Name, usage) // the default is the value's current one
	})
}

// httpOnlyFlagError turns "flag provided but not defined" for one of surge
// run's HTTP flags into a line that says what surge grpc uses instead.
func httpOnlyFlagError(err error) error {
	const undefined = "flag provided but not defined: -"
	msg := err.Error()
	i := strings.Index(msg, undefined)
	if i < 0 {
		return err
	}
	name := strings.Fields(msg[i+len(undefined):])
	if len(name) == 0 {
		return err
	}
	hint, ok := httpOnlyFlags[name[0]]
	if !ok {
		return err
	}
	dash := "--"
	if len(name[0]) == 1 {
		dash = "-"
	}
	return usageErrorf("%s%s is a flag of surge run (HTTP) and has no meaning here: %s", dash, name[0], hint)
}

// config connects, loads the schema, prepares the request and builds the
// scenario.
func (g *grpcFlags) config(ctx context.Context, fs *flag.FlagSet, f *runFlags) (runner.Config, func(), error) {
	none := func() {}
	if fs.NArg() != 1 {
		return runner.Config{}, none, usageErrorf("want one ADDR (host:port), got %d arguments", fs.NArg())
	}
	addr := fs.Arg(0)
	if f.method == "" {
		return runner.Config{}, none, usageErrorf("give the method to call: --method pkg.Service/Method")
	}
	if g.connections < 1 {
		return runner.Config{}, none, usageErrorf("--connections must be at least 1")
	}
	exec, err := f.executor()
	if err != nil {
		return runner.Config{}, none, err
	}
	req, err := g.request()
	if err != nil {
		return runner.Config{}, none, err
	}
	md, err := parseMetadata(append(append(listFlag{}, f.headers...), g.metadata...), "--metadata")
	if err != nil {
		return runner.Config{}, none, err
	}
	schema, err := g.schema()
	if err != nil {
		return runner.Config{}, none, err
	}
	conns, err := g.dial(ctx, addr, f, schema == nil)
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
	}
	if err != nil {
		closeAll()
		return runner.Config{}, none, err
	}
	if schema == nil {
		schema = conns[0].Schema
	}
	p := grpcvu.InvokeParams{Metadata: md, Timeout: f.timeout}
	// Prepare once up front, so an unknown method or a bad request is one
	// usage error before the run rather than an error per VU.
	reg := metrics.NewRegistry()
	if _, err := grpcvu.NewQuickVU(vu.New(reg, 1, 0, "check", reg.Intern()), conns[0], schema, f.method, req, p); err != nil {
		closeAll()
		return runner.Config{}, none, usageErrorf("%w", err)
	}
	sc := &engine.Scenario{Name: "default", Executor: exec, GracefulStop: f.gracefulStop,
		NewVU: func(st *vu.State) (engine.VU, error) {
			return grpcvu.NewQuickVU(st, conns[st.ID%len(conns)], schema, f.method, req, p)
		}}
	return runner.Config{Scenarios: []*engine.Scenario{sc}}, closeAll, nil
}

func (g *grpcFlags) request() ([]byte, error) {
	if g.dataFile != "" {
		if g.data != "" {
			return nil, usageErrorf("give --data or --data-file, not both")
		}
		b, err := os.ReadFile(g.dataFile)
		if err != nil {
			return nil, usageErrorf("--data-file: %w", err)
		}
		return b, nil
	}
	return []byte(g.data), nil
}

// schema loads --protoset or --proto; nil means server reflection.
func (g *grpcFlags) schema() (*grpcvu.Schema, error) {
	switch {
	case g.protoset != "" && len(g.protos) > 0:
		return nil, usageErrorf("give --proto or --protoset, not both")
	case g.protoset != "":
		s, err := grpcvu.LoadProtoset(g.protoset)
		if err != nil {
			return nil, usageErrorf("--protoset: %w", err)
		}
		return s, nil
	case len(g.protos) > 0:
		s, err := grpcvu.Load(g.importPaths, g.protos...)
		if err != nil {
			return nil, usageErrorf("--proto: %w", err)
		}
		return s, nil
	case len(g.importPaths) > 0:
		return nil, usageErrorf("--import-path needs --proto FILE")
	}
	return nil, nil
}

// dial opens the shared connections; the first reflects when there is no
// schema yet.
func (g *grpcFlags) dial(ctx context.Context, addr string, f *runFlags, reflect bool) ([]*grpcvu.Conn, error) {
	rmd, err := parseMetadata(g.reflectMetadata, "--reflect-metadata")
	if err != nil {
		return nil, err
	}
	p := grpcvu.ConnectParams{Plaintext: g.plaintext, Timeout: g.connectTimeout, Authority: g.authority,
		MaxReceiveSize: g.maxRecv, MaxSendSize: g.maxSend, ReflectMetadata: rmd}
	if !g.plaintext {
		if p.TLS, err = g.tlsConfig(f.insecure); err != nil {
			return nil, err
		}
	}
	var conns []*grpcvu.Conn
	for i := 0; i < g.connections; i++ {
		p.Reflect = reflect && i == 0
		c, err := grpcvu.Dial(ctx, addr, p)
		if err != nil {
			return conns, err
		}
		conns = append(conns, c)
	}
	return conns, nil
}

func (g *grpcFlags) tlsConfig(insecure bool) (*tls.Config, error) {
	cfg := &tls.Config{InsecureSkipVerify: insecure, ServerName: g.serverName}
	if g.cacert != "" {
		pem, err := os.ReadFile(g.cacert)
		if err != nil {
			return nil, usageErrorf("--cacert: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, usageErrorf("--cacert %s: no PEM certificates in it", g.cacert)
		}
	}
	if (g.cert == "") != (g.key == "") {
		return nil, usageErrorf("--cert and --key go together")
	}
	if g.cert != "" {
		c, err := tls.LoadX509KeyPair(g.cert, g.key)
		if err != nil {
			return nil, usageErrorf("--cert/--key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}

// parseMetadata parses 'key: value' pairs.
func parseMetadata(list []string, flagName string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	md := map[string]string{}
	for _, s := range list {
		k, v, ok := strings.Cut(s, ":")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || k == "" {
			return nil, usageErrorf("%s %q: want 'key: value'", flagName, s)
		}
		md[k] = strings.TrimSpace(v)
	}
	return md, nil
}
