package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	const module = "github.com/aggapi/aggapi"
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "-trimpath", Value: "true"}, {Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: "2026-12-01T12:00:00Z"}, {Key: "vcs.modified", Value: modified}}
	}
	for _, c := range []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"go install of a tag", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: module, Version: "v1.2.3"}},
			"aggapi v1.2.3 (github.com/aggapi/aggapi, go1.26.8)"},
		{"a build in a clean checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: module, Version: "v0.0.0-20261201120000-0123456789ab"},
			Settings: vcs("0123456789abcdef0123456789abcdef01234567", "false")},
			"aggapi v0.0.0-20261201120000-0123456789ab (github.com/aggapi/aggapi, revision 0123456789ab, go1.26.8)"},
		{"a build in an edited checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: module, Version: "v0.0.0-20261201120000-0123456789ab+dirty"},
			Settings: vcs("0123456789abcdef0123456789abcdef01234567", "true")},
			"aggapi v0.0.0-20261201120000-0123456789ab+dirty (github.com/aggapi/aggapi, revision 0123456789ab, modified, go1.26.8)"},
		{"a build from a tree without VCS", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: module, Version: "(devel)"}},
			"aggapi (devel) (github.com/aggapi/aggapi, go1.26.8)"},
		{"no main module version", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: module}},
			"aggapi (devel) (github.com/aggapi/aggapi, go1.26.8)"},
		{"no build info", nil, "aggapi (devel) (" + runtime.Version() + ")"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Format("aggapi", c.info); got != c.want {
				t.Errorf("Format:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestLine: a test binary carries build info with the main module's path.
func TestLine(t *testing.T) {
	got := Line("aggapi-doctor")
	if !strings.HasPrefix(got, "aggapi-doctor "+Devel+" (") || !strings.HasSuffix(got, runtime.Version()+")") {
		t.Errorf("Line = %q, want aggapi-doctor %s (..., %s)", got, Devel, runtime.Version())
	}
}

// A test binary carries no version: what the goldens stamp must not depend on the
// commit they were written at.
func TestStringInTests(t *testing.T) {
	if got := String(); got != Devel {
		t.Errorf("String() = %q in a test binary, want %q", got, Devel)
	}
}

// TestStamped: a version linked in for a release wins over the build info's.
func TestStamped(t *testing.T) {
	defer func(s string) { stamped = s }(stamped)
	stamped = "v0.1.0"
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/aggapi/aggapi", Version: "(devel)"}}
	if got, want := Format("aggapi", info), "aggapi v0.1.0 (github.com/aggapi/aggapi, go1.26.8)"; got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
}
