package version

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Devel is the version of a binary built from a source tree without version control
// information (as the go command writes it, and as `go test` binaries report).
const Devel = "(devel)"

// String describes the running binary, named program: see Format.
func String(program string) string {
	info, _ := debug.ReadBuildInfo()
	return Format(program, info)
}

// Format describes a build of program in one line:
//
//	aggapi v1.2.3 (github.com/aggapi/aggapi, go1.26.8)
//	aggapi (devel) (github.com/aggapi/aggapi, revision 0123456789ab, modified, go1.26.8)
//
// The version is the main module's (a tag for `go install ...@v1.2.3`, a
// pseudo-version for a build in a checkout, Devel without either); the revision and
// "modified" come from the VCS stamp of a build in a checkout. info may be nil.
func Format(program string, info *debug.BuildInfo) string {
	v, module, goVersion := Devel, "", runtime.Version()
	var details []string
	if info != nil {
		if info.Main.Version != "" {
			v = info.Main.Version
		}
		module = info.Main.Path
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
	if module != "" {
		details = append([]string{module}, details...)
	}
	details = append(details, goVersion)
	return program + " " + v + " (" + strings.Join(details, ", ") + ")"
}

// short cuts a commit hash to the 12 digits a pseudo-version shows.
func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
