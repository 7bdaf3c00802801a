package cluster

import (
	"context"
	"crypto/tls"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// The service is one bidirectional stream per worker, declared by hand:
// the messages are Go structs with the JSON codec, so there is no .proto
// to compile and nothing generated to keep in sync.
const (
	serviceName = "surge.cluster.v1.Coordinator"
	connectPath = "/" + serviceName + "/Connect"
)

type coordinator interface {
	connect(grpc.ServerStream) error
}

var serviceDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*coordinator)(nil),
	Streams: []grpc.StreamDesc{{
		StreamName:    "Connect",
		Handler:       func(srv any, st grpc.ServerStream) error { return srv.(coordinator).connect(st) },
		ServerStreams: true,
		ClientStreams: true,
	}},
}

// openStream opens the Connect stream on conn.
func openStream(ctx context.Context, conn *grpc.ClientConn) (grpc.ClientStream, error) {
	return conn.NewStream(ctx, &serviceDesc.Streams[0], connectPath, grpc.CallContentSubtype(CodecName))
}

func serverCreds(c *tls.Config) grpc.ServerOption {
	if c == nil {
		return grpc.Creds(insecure.NewCredentials())
	}
	return grpc.Creds(credentials.NewTLS(c))
}

func clientCreds(c *tls.Config) grpc.DialOption {
	if c == nil {
		return grpc.WithTransportCredentials(insecure.NewCredentials())
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(c))
}
