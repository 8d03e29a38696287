module go.opentelemetry.io/collector/internal/statusutil

go 1.26.0

require (
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261019180522-ce908d29299b
	google.golang.org/grpc v1.84.0
	google.golang.org/protobuf v1.36.12
)

require golang.org/x/sys v0.47.0 // indirect
