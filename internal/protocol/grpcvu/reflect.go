package grpcvu

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	rpbalpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Reflect asks the server for its services with the gRPC server reflection
// protocol (v1, falling back to v1alpha) and builds a schema from the file
// descriptors it returns, fetching missing imports by name.
func Reflect(ctx context.Context, conn grpc.ClientConnInterface, md map[string]string) (*Schema, error) {
	if len(md) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, metadata.New(md))
	}
	s, err := reflectWith(ctx, v1Stream(conn))
	if status.Code(err) == codes.Unimplemented {
		s, err = reflectWith(ctx, v1alphaStream(conn))
	}
	if err != nil {
		return nil, fmt.Errorf("server reflection: %w", err)
	}
	return s, nil
}

// reflector is one request/response exchange on a reflection stream; the
// two protocol versions have the same messages under different names.
type reflector func(req *rpb.ServerReflectionRequest) (*rpb.ServerReflectionResponse, error)

func v1Stream(conn grpc.ClientConnInterface) func(ctx context.Context) (reflector, func(), error) {
	return func(ctx context.Context) (reflector, func(), error) {
		st, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
		if err != nil {
			return nil, nil, err
		}
		return func(req *rpb.ServerReflectionRequest) (*rpb.ServerReflectionResponse, error) {
			if err := st.Send(req); err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return st.Recv() // after io.EOF from Send, Recv has the status
		}, func() { st.CloseSend() }, nil
	}
}

// v1alphaStream converts through the wire format: the messages are
// field-for-field the same.
func v1alphaStream(conn grpc.ClientConnInterface) func(ctx context.Context) (reflector, func(), error) {
	return func(ctx context.Context) (reflector, func(), error) {
		st, err := rpbalpha.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
		if err != nil {
			return nil, nil, err
		}
		return func(req *rpb.ServerReflectionRequest) (*rpb.ServerReflectionResponse, error) {
			var areq rpbalpha.ServerReflectionRequest
			if err := convert(req, &areq); err != nil {
				return nil, err
			}
			if err := st.Send(&areq); err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			aresp, err := st.Recv()
			if err != nil {
				return nil, err
			}
			var resp rpb.ServerReflectionResponse
			return &resp, convert(aresp, &resp)
		}, func() { st.CloseSend() }, nil
	}
}

func convert(from, to proto.Message) error {
	b, err := proto.Marshal(from)
	if err != nil {
		return err
	}
	return proto.Unmarshal(b, to)
}

func reflectWith(ctx context.Context, open func(context.Context) (reflector, func(), error)) (*Schema, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ask, done, err := open(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	resp, err := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{}})
	if err != nil {
		return nil, err
	}
	if e := resp.GetErrorResponse(); e != nil {
		return nil, status.Error(codes.Code(e.ErrorCode), e.ErrorMessage)
	}
	files := map[string]*descriptorpb.FileDescriptorProto{}
	for _, svc := range resp.GetListServicesResponse().GetService() {
		if svc.Name == "grpc.reflection.v1.ServerReflection" || svc.Name == "grpc.reflection.v1alpha.ServerReflection" {
			continue
		}
		if err := fetch(ask, files, &rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: svc.Name}}); err != nil {
			return nil, fmt.Errorf("service %s: %w", svc.Name, err)
		}
	}
	if err := fetchImports(ask, files); err != nil {
		return nil, err
	}
	set := &descriptorpb.FileDescriptorSet{}
	for _, f := range files {
		set.File = append(set.File, f)
	}
	return schemaFromSet(set)
}

// fetch asks one question and adds the file descriptors of the answer.
func fetch(ask reflector, files map[string]*descriptorpb.FileDescriptorProto, req *rpb.ServerReflectionRequest) error {
	resp, err := ask(req)
	if err != nil {
		return err
	}
	if e := resp.GetErrorResponse(); e != nil {
		return status.Error(codes.Code(e.ErrorCode), e.ErrorMessage)
	}
	for _, b := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
		var fd descriptorpb.FileDescriptorProto
		if err := proto.Unmarshal(b, &fd); err != nil {
			return fmt.Errorf("bad file descriptor: %w", err)
		}
		files[fd.GetName()] = &fd
	}
	return nil
}

// fetchImports asks for imported files the server did not send along.
func fetchImports(ask reflector, files map[string]*descriptorpb.FileDescriptorProto) error {
	for {
		var missing []string
		for _, f := range files {
			for _, dep := range f.GetDependency() {
				if _, ok := files[dep]; !ok {
					missing = append(missing, dep)
				}
			}
		}
		if len(missing) == 0 {
			return nil
		}
		for _, name := range missing {
			if _, ok := files[name]; ok {
				continue
			}
			if err := fetch(ask, files, &rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: name}}); err != nil {
				return fmt.Errorf("import %s: %w", name, err)
			}
			if _, ok := files[name]; !ok {
				return fmt.Errorf("import %s: the server did not send it", name)
			}
		}
	}
}
