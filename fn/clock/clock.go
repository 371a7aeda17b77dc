package clock

import (
	"fmt"
	"strconv"
	"time"
)

// EnvVar sets the clock of the function and of every command: an RFC 3339 time.
// kustomize and kpt pass the environment on to exec functions, so it reaches the
// function in a pipeline too.
const EnvVar = "AGGAPI_NOW"

// Clock tells the time a command decides at.
type Clock struct {
	real  func() time.Time
	fixed time.Time
	set   bool
}

// Real is the machine's clock.
func Real(now func() time.Time) Clock { return Clock{real: now} }

// Fixed is a clock that always says t, as AGGAPI_NOW does.
func Fixed(t time.Time) Clock { return Clock{fixed: t.UTC(), set: true} }

// FromEnv is the clock AGGAPI_NOW sets, read with getenv, or real when it is unset
// or empty. A value that is not an RFC 3339 time is an error naming the variable and
// showing the value: a mistyped preview must not silently run at the real time.
func FromEnv(getenv func(string) string, real func() time.Time) (Clock, error) {
	v := getenv(EnvVar)
	if v == "" {
		return Real(real), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return Clock{}, fmt.Errorf("%s=%s is not an RFC 3339 time such as 2027-11-01T00:00:00Z", EnvVar, strconv.Quote(v))
	}
	return Fixed(t), nil
}

// Now is the time to decide at.
func (c Clock) Now() time.Time {
	if c.set {
		return c.fixed
	}
	if c.real == nil {
		return time.Now()
	}
	return c.real()
}

// IsSet reports whether AGGAPI_NOW (or a test) fixed the clock.
func (c Clock) IsSet() bool { return c.set }

// Note is the line a command prints when the clock is set, so a forgotten variable in
// CI cannot go unnoticed; empty for the real clock.
func (c Clock) Note() string {
	if !c.set {
		return ""
	}
	return fmt.Sprintf("the clock is set to %s by %s, not the real time", c.fixed.Format(time.RFC3339), EnvVar)
}
