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

// TestString: a test binary carries build info with the main module's path.
func TestString(t *testing.T) {
	got := String("aggapi-doctor")
	if !strings.HasPrefix(got, "aggapi-doctor ") || !strings.Contains(got, runtime.Version()) {
		t.Errorf("String = %q, want the program name and %s", got, runtime.Version())
	}
}
