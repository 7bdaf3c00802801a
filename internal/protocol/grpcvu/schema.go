package grpcvu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Schema is a set of loaded proto files and the methods of their services.
// It is immutable once built, so VUs share one.
type Schema struct {
	files   *protoregistry.Files
	types   *dynamicpb.Types
	methods map[string]*Method // by "/pkg.Svc/M"
}

// Method is one RPC of a loaded service.
type Method struct {
	Path            string // "/pkg.Svc/M", as sent on the wire
	Desc            protoreflect.MethodDescriptor
	ClientStreaming bool
	ServerStreaming bool
}

// Kind is k6's rpc_type tag value: unary, server_stream, client_stream or
// bidi_stream.
func (m *Method) Kind() string {
	switch {
	case m.ClientStreaming && m.ServerStreaming:
		return "bidi_stream"
	case m.ClientStreaming:
		return "client_stream"
	case m.ServerStreaming:
		return "server_stream"
	}
	return "unary"
}

// loaded caches parsed schemas by their sources, so that every VU of a run
// loading the same files (k6 scripts call load in the init context of each
// VU) parses them once.
var loaded sync.Map // string → *Schema

// Load parses proto source files at run time (no protoc), resolving imports
// in importPaths (the current directory when empty) and the well-known
// google/protobuf types. A syntax error is reported as file:line:col.
func Load(importPaths []string, files ...string) (*Schema, error) {
	if len(files) == 0 {
		return nil, errors.New("load: no proto files given")
	}
	key := "src\x00" + strings.Join(importPaths, "\x01") + "\x00" + strings.Join(files, "\x01")
	if s, ok := loaded.Load(key); ok {
		return s.(*Schema), nil
	}
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: importPaths}),
	}
	res, err := c.Compile(context.Background(), files...)
	if err != nil {
		return nil, fmt.Errorf("loading protos: %w", err)
	}
	fds := make([]protoreflect.FileDescriptor, len(res))
	for i, f := range res {
		fds[i] = f
	}
	s, err := newSchema(fds)
	if err != nil {
		return nil, err
	}
	loaded.Store(key, s)
	return s, nil
}

// LoadProtoset reads a FileDescriptorSet (protoc --descriptor_set_out
// --include_imports, buf build -o).
func LoadProtoset(path string) (*Schema, error) {
	key := "set\x00" + path
	if s, ok := loaded.Load(key); ok {
		return s.(*Schema), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading protoset: %w", err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("loading protoset %s: not a FileDescriptorSet: %w", path, err)
	}
	s, err := schemaFromSet(&set)
	if err != nil {
		return nil, fmt.Errorf("loading protoset %s: %w", path, err)
	}
	loaded.Store(key, s)
	return s, nil
}

// schemaFromSet links descriptor protos (from a protoset or from server
// reflection) into a schema.
func schemaFromSet(set *descriptorpb.FileDescriptorSet) (*Schema, error) {
	files, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, err
	}
	var fds []protoreflect.FileDescriptor
	files.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		fds = append(fds, f)
		return true
	})
	return newSchema(fds)
}

func newSchema(fds []protoreflect.FileDescriptor) (*Schema, error) {
	s := &Schema{files: &protoregistry.Files{}, methods: map[string]*Method{}}
	var add func(f protoreflect.FileDescriptor) error
	add = func(f protoreflect.FileDescriptor) error {
		if _, err := s.files.FindFileByPath(f.Path()); err == nil {
			return nil
		}
		imps := f.Imports()
		for i := 0; i < imps.Len(); i++ {
			if err := add(imps.Get(i).FileDescriptor); err != nil {
				return err
			}
		}
		return s.files.RegisterFile(f)
	}
	for _, f := range fds {
		if err := add(f); err != nil {
			return nil, fmt.Errorf("registering %s: %w", f.Path(), err)
		}
		svcs := f.Services()
		for i := 0; i < svcs.Len(); i++ {
			svc := svcs.Get(i)
			ms := svc.Methods()
			for j := 0; j < ms.Len(); j++ {
				md := ms.Get(j)
				path := "/" + string(svc.FullName()) + "/" + string(md.Name())
				s.methods[path] = &Method{Path: path, Desc: md, ClientStreaming: md.IsStreamingClient(), ServerStreaming: md.IsStreamingServer()}
			}
		}
	}
	s.types = dynamicpb.NewTypes(s.files)
	return s, nil
}

// Methods returns the full paths of the schema's methods, sorted.
func (s *Schema) Methods() []string {
	out := make([]string, 0, len(s.methods))
	for p := range s.methods {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Method finds a method by "pkg.Svc/M", "/pkg.Svc/M" or "pkg.Svc.M".
func (s *Schema) Method(name string) (*Method, error) {
	path := name
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if !strings.Contains(path[1:], "/") {
		if i := strings.LastIndexByte(path, '.'); i > 0 {
			path = path[:i] + "/" + path[i+1:]
		}
	}
	if m, ok := s.methods[path]; ok {
		return m, nil
	}
	known := s.Methods()
	if len(known) == 0 {
		return nil, fmt.Errorf("method %q not found: the loaded protos define no services", name)
	}
	if len(known) > 8 {
		known = append(known[:8], "…")
	}
	return nil, fmt.Errorf("method %q not found (known: %s)", name, strings.Join(known, ", "))
}

// NewRequest parses a JSON request for m (protojson: field names as in the
// proto or lowerCamelCase). A field the message does not have is an error
// that names it.
func (s *Schema) NewRequest(m *Method, js []byte) (*dynamicpb.Message, error) {
	msg := dynamicpb.NewMessage(m.Desc.Input())
	if len(js) == 0 {
		return msg, nil
	}
	opts := protojson.UnmarshalOptions{Resolver: s.types}
	if err := opts.Unmarshal(js, msg); err != nil {
		return nil, fmt.Errorf("request for %s does not match %s: %s", m.Path, m.Desc.Input().FullName(), cleanProtoErr(err))
	}
	return msg, nil
}

// MarshalRequest is NewRequest encoded in the wire format, for callers that
// send the same request many times.
func (s *Schema) MarshalRequest(m *Method, js []byte) ([]byte, error) {
	msg, err := s.NewRequest(m, js)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(msg)
}

// JSON renders a message as k6 shows it: protojson with every field,
// including those at their zero value, compacted (protojson varies its
// spacing on purpose, which would make outputs differ between runs).
func (s *Schema) JSON(msg proto.Message) ([]byte, error) {
	b, err := protojson.MarshalOptions{EmitUnpopulated: true, Resolver: s.types}.Marshal(msg)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(b))
	if err := json.Compact(&out, b); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// cleanProtoErr drops protojson's "proto: " prefix (and its unstable
// non-breaking spaces), keeping the position and the field name.
func cleanProtoErr(err error) string {
	msg := strings.ReplaceAll(err.Error(), "\u00a0", " ")
	return strings.TrimPrefix(msg, "proto: ")
}
