package statusutil

import (
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestNewStatusFromMsgAndHTTPCode(t *testing.T) {
	for code, want := range map[int]codes.Code{
		400: codes.InvalidArgument,
		401: codes.Unauthenticated,
		403: codes.PermissionDenied,
		404: codes.Unimplemented,
		429: codes.ResourceExhausted,
		502: codes.Unavailable,
		503: codes.Unavailable,
		504: codes.Unavailable,
		500: codes.Unknown,
		418: codes.Unknown,
	} {
		s := NewStatusFromMsgAndHTTPCode("boom", code)
		if s.Code() != want || s.Message() != "boom" {
			t.Errorf("http %d: got %v %q, want %v %q", code, s.Code(), s.Message(), want, "boom")
		}
	}
}

func TestGetRetryInfo(t *testing.T) {
	if GetRetryInfo(nil) != nil {
		t.Fatal("nil status must give nil retry info")
	}
	if GetRetryInfo(status.New(codes.Unavailable, "x")) != nil {
		t.Fatal("status without details must give nil retry info")
	}
	s, err := status.New(codes.Unavailable, "x").WithDetails(
		&errdetails.ErrorInfo{Reason: "r"},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(3 * time.Second)},
	)
	if err != nil {
		t.Fatal(err)
	}
	ri := GetRetryInfo(s)
	if ri == nil || ri.RetryDelay.AsDuration() != 3*time.Second {
		t.Fatalf("got %v, want a 3s retry delay", ri)
	}
}
