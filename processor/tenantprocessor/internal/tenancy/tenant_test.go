package tenancy

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestValidateID(t *testing.T) {
	for _, ok := range []string{"a", "team-a", "Team_B.prod", "x!*'()", strings.Repeat("a", MaxIDLength)} {
		if err := ValidateID(ok); err != nil {
			t.Errorf("%q rejected: %v", ok, err)
		}
	}
	for id, want := range map[string]string{
		"":                                 "tenant ID is empty",
		".":                                `tenant ID "." is not allowed`,
		"..":                               `tenant ID ".." is not allowed`,
		"a/b":                              `tenant ID "a/b" has the character '/'`,
		"a b":                              `has the character ' '`,
		"é":                                `has the character`,
		strings.Repeat("a", MaxIDLength+1): "is 151 characters long, the limit is 150",
	} {
		err := ValidateID(id)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateID(%q) = %v, want an error containing %q", id, err, want)
		}
	}
}

func TestStatic(t *testing.T) {
	res := pcommon.NewResource()
	res.Attributes().PutStr("tenant", "someone-else")
	if got := Static("team-a").Resolve(context.Background(), res); got != "team-a" {
		t.Errorf("got %q", got)
	}
}
