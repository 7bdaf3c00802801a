// Package grpctest is a real gRPC server for surge's tests, examples and
// benchmarks: the Echo service of echo.proto (one method of each call
// kind), the health service and server reflection.
//
// There is no protoc on the build machines, so the service is not
// generated: echo.proto is compiled when the server starts (protocompile)
// and its methods are served with dynamic messages (dynamicpb) through a
// hand-built grpc.ServiceDesc. The reflection service serves the same
// descriptors, so clients can discover it.
package grpctest

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/bufbuild/protocompile"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	rpbalpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Proto is the source of echo.proto.
//
//go:embed echo.proto
var Proto string

// ProtoFile is the name under which echo.proto is compiled and reflected.
const ProtoFile = "echo.proto"

// Service is the full name of the Echo service.
const Service = "surge.echo.v1.Echo"

// Server is a running Echo server.
type Server struct {
	Addr string // host:port it listens on
	GRPC *grpc.Server
	lis  net.Listener
	wg   sync.WaitGroup
}

// Options configure Start.
type Options struct {
	Addr string                           // listen address; default 127.0.0.1:0
	TLS  credentials.TransportCredentials // nil: plaintext
	// OnlyV1Alpha serves only the older reflection protocol, as servers
	// built with older gRPC libraries do.
	OnlyV1Alpha bool
	// ReflectToken, when set, is the "x-token" metadata reflection
	// requests must carry.
	ReflectToken string
}

// Start serves Echo, health and reflection until Stop.
func Start(o Options) (*Server, error) {
	fd, err := Compile()
	if err != nil {
		return nil, err
	}
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("grpctest: %w", err)
	}
	opts := []grpc.ServerOption{grpc.ChainUnaryInterceptor(echoMetadata), grpc.ChainStreamInterceptor(o.guardReflection)}
	if o.TLS != nil {
		opts = append(opts, grpc.Creds(o.TLS))
	}
	gs := grpc.NewServer(opts...)
	gs.RegisterService(serviceDesc(fd.Services().ByName("Echo")), struct{}{})
	hs := health.NewServer()
	hs.SetServingStatus(Service, grpc_health_v1.HealthCheckResponse_SERVING)
	grpc_health_v1.RegisterHealthServer(gs, hs)
	files := &protoregistry.Files{}
	if err := files.RegisterFile(fd); err != nil {
		return nil, fmt.Errorf("grpctest: %w", err)
	}
	ropts := reflection.ServerOptions{Services: gs, DescriptorResolver: resolver{files}}
	if !o.OnlyV1Alpha {
		rpb.RegisterServerReflectionServer(gs, reflection.NewServerV1(ropts))
	}
	rpbalpha.RegisterServerReflectionServer(gs, reflection.NewServer(ropts))
	s := &Server{Addr: lis.Addr().String(), GRPC: gs, lis: lis}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		gs.Serve(lis)
	}()
	return s, nil
}

// Stop closes every connection at once: clients mid-stream see the server
// go away.
func (s *Server) Stop() {
	s.GRPC.Stop()
	s.wg.Wait()
}

// Compile compiles echo.proto from its embedded source.
func Compile() (protoreflect.FileDescriptor, error) {
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(map[string]string{ProtoFile: Proto}),
	})}
	res, err := c.Compile(context.Background(), ProtoFile)
	if err != nil {
		return nil, fmt.Errorf("grpctest: compiling echo.proto: %w", err)
	}
	// Re-link through descriptor protos so the descriptor does not keep the
	// compiler's AST alive.
	return protodesc.NewFile(protodesc.ToFileDescriptorProto(res[0]), protoregistry.GlobalFiles)
}

func serviceDesc(svc protoreflect.ServiceDescriptor) *grpc.ServiceDesc {
	in := svc.Methods().ByName("Say").Input()
	out := svc.Methods().ByName("Say").Output()
	h := &handler{in: in, out: out}
	return &grpc.ServiceDesc{
		ServiceName: string(svc.FullName()),
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Say", Handler: h.say}},
		Streams: []grpc.StreamDesc{
			{StreamName: "Repeat", Handler: h.repeat, ServerStreams: true},
			{StreamName: "Collect", Handler: h.collect, ClientStreams: true},
			{StreamName: "Chat", Handler: h.chat, ServerStreams: true, ClientStreams: true},
		},
		Metadata: ProtoFile,
	}
}

type handler struct {
	in, out protoreflect.MessageDescriptor
}

func (h *handler) field(m *dynamicpb.Message, name string) protoreflect.Value {
	return m.Get(m.Descriptor().Fields().ByName(protoreflect.Name(name)))
}

func (h *handler) reply(msg string, index int32) *dynamicpb.Message {
	r := dynamicpb.NewMessage(h.out)
	r.Set(h.out.Fields().ByName("message"), protoreflect.ValueOfString(msg))
	if index != 0 {
		r.Set(h.out.Fields().ByName("index"), protoreflect.ValueOfInt32(index))
	}
	return r
}

func (h *handler) say(srv any, ctx context.Context, dec func(any) error, intercept grpc.UnaryServerInterceptor) (any, error) {
	req := dynamicpb.NewMessage(h.in)
	if err := dec(req); err != nil {
		return nil, err
	}
	if intercept == nil {
		return h.answer(ctx, req)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: "/" + Service + "/Say"}
	return intercept(ctx, req, info, func(ctx context.Context, req any) (any, error) {
		return h.answer(ctx, req.(*dynamicpb.Message))
	})
}

func (h *handler) answer(_ context.Context, req *dynamicpb.Message) (any, error) {
	if code := h.field(req, "fail_code").Int(); code != 0 {
		return nil, status.Errorf(codes.Code(code), "failing as asked")
	}
	return h.reply(h.field(req, "message").String(), 0), nil
}

func (h *handler) repeat(_ any, ss grpc.ServerStream) error {
	req := dynamicpb.NewMessage(h.in)
	if err := ss.RecvMsg(req); err != nil {
		return err
	}
	msg := h.field(req, "message").String()
	pause := time.Duration(h.field(req, "interval_ms").Int()) * time.Millisecond
	for i := int32(1); i <= int32(h.field(req, "repeat").Int()); i++ {
		if i > 1 && pause > 0 {
			select {
			case <-time.After(pause):
			case <-ss.Context().Done():
				return ss.Context().Err()
			}
		}
		if err := ss.SendMsg(h.reply(msg, i)); err != nil {
			return err
		}
	}
	return nil
}

func (h *handler) collect(_ any, ss grpc.ServerStream) error {
	var parts []string
	for {
		req := dynamicpb.NewMessage(h.in)
		err := ss.RecvMsg(req)
		if errors.Is(err, io.EOF) {
			return ss.SendMsg(h.reply(strings.Join(parts, ","), int32(len(parts))))
		}
		if err != nil {
			return err
		}
		parts = append(parts, h.field(req, "message").String())
	}
}

func (h *handler) chat(_ any, ss grpc.ServerStream) error {
	for i := int32(1); ; i++ {
		req := dynamicpb.NewMessage(h.in)
		err := ss.RecvMsg(req)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if code := h.field(req, "fail_code").Int(); code != 0 {
			return status.Errorf(codes.Code(code), "failing as asked")
		}
		if err := ss.SendMsg(h.reply(h.field(req, "message").String(), i)); err != nil {
			return err
		}
	}
}

// resolver finds echo.proto's descriptors, then the linked-in ones (the
// health service's).
type resolver struct{ own *protoregistry.Files }

func (r resolver) FindFileByPath(path string) (protoreflect.FileDescriptor, error) {
	if fd, err := r.own.FindFileByPath(path); err == nil {
		return fd, nil
	}
	return protoregistry.GlobalFiles.FindFileByPath(path)
}

func (r resolver) FindDescriptorByName(name protoreflect.FullName) (protoreflect.Descriptor, error) {
	if d, err := r.own.FindDescriptorByName(name); err == nil {
		return d, nil
	}
	return protoregistry.GlobalFiles.FindDescriptorByName(name)
}

// echoMetadata answers a call's "x-echo" metadata in an "x-echo" header,
// and sets an "x-served-by" trailer.
func echoMetadata(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if md, ok := metadata.FromIncomingContext(ctx); ok && len(md.Get("x-echo")) > 0 {
		grpc.SetHeader(ctx, metadata.Pairs("x-echo", md.Get("x-echo")[0]))
	}
	grpc.SetTrailer(ctx, metadata.Pairs("x-served-by", "grpctest"))
	return h(ctx, req)
}

// guardReflection turns away reflection requests without the token.
func (o Options) guardReflection(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if o.ReflectToken != "" && strings.Contains(info.FullMethod, "ServerReflection") {
		md, _ := metadata.FromIncomingContext(ss.Context())
		if got := md.Get("x-token"); len(got) == 0 || got[0] != o.ReflectToken {
			return status.Error(codes.Unauthenticated, "reflection needs x-token")
		}
	}
	return h(srv, ss)
}
