package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// stamped is set at link time for a release:
//
//	-ldflags "-X github.com/aggapi/aggapi/fn/version.stamped=v0.1.0"
var stamped string

// Devel is the version of a build that carries none: built from a source tree without
// version control information (go build -buildvcs=false), and every `go test` binary.
const Devel = "(devel)"

// String is the version of this binary: the stamped one, else the main module's.
func String() string { return current() }

var current = sync.OnceValue(func() string {
	info, _ := debug.ReadBuildInfo()
	return versionOf(info)
})

func versionOf(info *debug.BuildInfo) string {
	switch {
	case stamped != "":
		return stamped
	case info != nil && info.Main.Version != "":
		return info.Main.Version
	default:
		return Devel
	}
}

// Line describes the running binary, named program, in one line: see Format.
func Line(program string) string {
	info, _ := debug.ReadBuildInfo()
	return Format(program, info)
}

// Format describes a build of program in one line:
//
//	aggapi v1.2.3 (github.com/aggapi/aggapi, go1.26.8)
//	aggapi (devel) (github.com/aggapi/aggapi, revision 0123456789ab, modified, go1.26.8)
//
// The version is String's (a tag for `go install ...@v1.2.3`, a pseudo-version for a
// build in a checkout, Devel without either); the revision and "modified" come from
// the VCS stamp of a build in a checkout. info may be nil.
func Format(program string, info *debug.BuildInfo) string {
	goVersion := runtime.Version()
	var details []string
	if info != nil {
		if info.Main.Path != "" {
			details = append(details, info.Main.Path)
		}
		if info.GoVersion != "" {
			goVersion = info.GoVersion
		}
		var revision, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if revision != "" {
			details = append(details, "revision "+short(revision))
			if modified == "true" {
				details = append(details, "modified")
			}
		}
	}
	details = append(details, goVersion)
	return program + " " + versionOf(info) + " (" + strings.Join(details, ", ") + ")"
}

// short cuts a commit hash to the 12 digits a pseudo-version shows.
func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
