package tenantid

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, ok := range []string{"a", "team-a", "Team_B.prod", "x!*'()", strings.Repeat("a", MaxLength)} {
		if err := Validate(ok); err != nil {
			t.Errorf("%q rejected: %v", ok, err)
		}
	}
	for id, want := range map[string]string{
		"":                               "tenant ID is empty",
		".":                              `tenant ID "." is not allowed`,
		"..":                             `tenant ID ".." is not allowed`,
		"a/b":                            `tenant ID "a/b" has the character '/'`,
		"a b":                            `has the character ' '`,
		"a|b":                            `has the character '|'`,
		"é":                              `has the character`,
		strings.Repeat("a", MaxLength+1): "is 151 characters long, the limit is 150",
	} {
		err := Validate(id)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%q) = %v, want an error containing %q", id, err, want)
		}
	}
}
