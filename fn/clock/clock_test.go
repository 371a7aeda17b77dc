package clock

import (
	"strings"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	t.Parallel()
	real := func() time.Time { return time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC) }
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvVar {
				return v
			}
			return ""
		}
	}
	c, err := FromEnv(env(""), real)
	if err != nil || c.IsSet() || !c.Now().Equal(real()) || c.Note() != "" {
		t.Errorf("unset: %v %v %v %q", err, c.IsSet(), c.Now(), c.Note())
	}
	c, err = FromEnv(env("2027-11-01T12:00:00+02:00"), real)
	want := time.Date(2027, 11, 1, 10, 0, 0, 0, time.UTC)
	if err != nil || !c.IsSet() || !c.Now().Equal(want) || !strings.Contains(c.Note(), "2027-11-01T10:00:00Z") {
		t.Errorf("set: %v %v %v %q", err, c.IsSet(), c.Now(), c.Note())
	}
	for _, bad := range []string{"2027-11-01", "tomorrow", "2027-13-01T00:00:00Z", "1700000000"} {
		if _, err := FromEnv(env(bad), real); err == nil || !strings.Contains(err.Error(), EnvVar) || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
