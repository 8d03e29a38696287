package tenancy

import (
	"testing"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func resource(kv ...string) pcommon.Resource {
	r := pcommon.NewResource()
	for i := 0; i+1 < len(kv); i += 2 {
		r.Attributes().PutStr(kv[i], kv[i+1])
	}
	return r
}

func TestResolvePrecedence(t *testing.T) {
	r := &Resolver{
		Sources: []Source{
			Metadata("X-Scope-OrgID"),
			Attribute("service.namespace"),
			Mapping{Attribute: "k8s.namespace.name", Values: map[string]string{"payments": "team-pay"}},
		},
		Default: "fallback",
	}
	header := client.NewMetadata(map[string][]string{"x-scope-orgid": {"from-header"}})
	none := client.NewMetadata(nil)
	for _, tc := range []struct {
		name    string
		md      client.Metadata
		res     pcommon.Resource
		want    string
		outcome Outcome
	}{
		{"header wins", header, resource("service.namespace", "ns", "k8s.namespace.name", "payments"), "from-header", Found},
		{"attribute next", none, resource("service.namespace", "ns", "k8s.namespace.name", "payments"), "ns", Found},
		{"mapping next", none, resource("k8s.namespace.name", "payments"), "team-pay", Found},
		{"unmapped value falls through", none, resource("k8s.namespace.name", "other"), "fallback", Found},
		{"default last", none, resource(), "fallback", Found},
		{"invalid header is refused, not passed on", client.NewMetadata(map[string][]string{"X-Scope-OrgID": {"a b"}}), resource("service.namespace", "ns"), "a b", Invalid},
		{"two header values are refused", client.NewMetadata(map[string][]string{"X-Scope-OrgID": {"a", "b"}}), resource(), "a,b", Invalid},
		{"invalid attribute is refused", none, resource("service.namespace", "../x"), "../x", Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, outcome := r.Resolve(tc.md, tc.res)
			if got != tc.want || outcome != tc.outcome {
				t.Errorf("got %q %v, want %q %v", got, outcome, tc.want, tc.outcome)
			}
		})
	}
	r.Default = ""
	if _, outcome := r.Resolve(none, resource()); outcome != Missing {
		t.Errorf("no source and no default: %v, want Missing", outcome)
	}
}
