package pipeline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aggapi/aggapi/internal/testutil"
)

// A year in the GitOps example: its CI workflow's steps (examples/gitops/ci/aggapi-ci.sh)
// driven at four dates of a certificate's life with AGGAPI_NOW, over a Git repository
// holding a copy of examples/gitops, with the pinned kustomize. The pull-request check
// fails only on a stale render.

// gitopsRepo is a Git repository of a copy of the example (unencrypted Secrets: the
// scripts need no sops then) whose every API was rendered afresh at t0 and committed.
type gitopsRepo struct {
	t    *testing.T
	root string // the repository
	dir  string // examples/gitops in it
}

func newGitopsRepo(t *testing.T, t0 time.Time) *gitopsRepo {
	t.Helper()
	root := gitopsRoot(t, false)
	g := &gitopsRepo{t: t, root: root, dir: filepath.Join(root, "examples", "gitops")}
	// Every API from scratch at t0, so their certificates share one life.
	err := filepath.WalkDir(g.dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(filepath.Dir(p)) == "rendered" && (d.Name() == "manifests.yaml" || d.Name() == "secret.yaml") {
			err = os.WriteFile(p, nil, 0o644)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := g.run(t0, "render.sh"); r.Err != nil {
		t.Fatalf("render.sh at %s: %v\n%s", t0, r.Err, r.Output())
	}
	g.git("init", "-q")
	g.commit("the repository at t0")
	return g
}

func (g *gitopsRepo) git(args ...string) string {
	g.t.Helper()
	return string(testutil.MustRun(g.t, g.root, nil, "git", append([]string{"-c", "user.name=ci", "-c", "user.email=ci@example.com"}, args...)...))
}

func (g *gitopsRepo) commit(msg string) {
	g.t.Helper()
	g.git("add", "-A")
	g.git("commit", "-q", "--allow-empty", "-m", msg)
}

// run runs one of the example's scripts (relative to examples/gitops) at now.
func (g *gitopsRepo) run(now time.Time, name string, args ...string) testutil.Result {
	g.t.Helper()
	return script(g.t, g.root, []string{"AGGAPI_NOW=" + now.Format(time.RFC3339)}, name, args...)
}

// changed lists what differs from the last commit.
func (g *gitopsRepo) changed() string {
	g.t.Helper()
	return strings.TrimSpace(g.git("status", "--porcelain"))
}

// verifyJSON is `aggapi verify -o json` with every config over the committed render.
func (g *gitopsRepo) verifyJSON(now time.Time) (certs []struct {
	Config      string
	RenewalFrom time.Time
	PreviousCAs []struct{ LeavesCABundle time.Time }
	Due         []string
}) {
	g.t.Helper()
	args := []string{"verify", "-o", "json"}
	for _, api := range gitopsAPIs {
		args = append(args, "--config", filepath.Join(api, "render"))
	}
	for _, api := range gitopsAPIs {
		args = append(args, filepath.Join(api, "rendered"))
	}
	r := testutil.Cmd{Dir: g.dir, Env: append(os.Environ(), "AGGAPI_NOW="+now.Format(time.RFC3339))}.Run(g.t, aggapiBin, args...)
	if c := r.ExitCode(); c != 0 && c != 3 {
		g.t.Fatalf("verify -o json at %s: %v\n%s", now, r.Err, r.Output())
	}
	var out struct {
		Certificates []struct {
			Config      string
			RenewalFrom time.Time
			PreviousCAs []struct{ LeavesCABundle time.Time }
			Due         []string
		}
	}
	if err := json.Unmarshal(r.Stdout, &out); err != nil {
		g.t.Fatalf("verify -o json: %v\n%s", err, r.Stdout)
	}
	if len(out.Certificates) != len(gitopsAPIs) {
		g.t.Fatalf("verify -o json lists %d certificates, want one per API (%d):\n%s", len(out.Certificates), len(gitopsAPIs), r.Stdout)
	}
	return out.Certificates
}

// check runs the pull-request check at now and says whether it passed and whether it
// took the "a render is due" way.
func (g *gitopsRepo) check(now time.Time) (passed, due bool, out string) {
	g.t.Helper()
	r := g.run(now, "ci/aggapi-ci.sh", "check")
	return r.Err == nil, strings.Contains(string(r.Stdout), "::notice::a render is due"), r.Output()
}

// stalePR checks, at now, a pull request that changes a config and commits no render:
// the check must fail, naming the stale render. The working tree is restored.
func (g *gitopsRepo) stalePR(now time.Time) {
	g.t.Helper()
	testutil.ReplaceOnce(g.t, filepath.Join(g.dir, "render", "aggapi.yaml"), "replicas: 2", "replicas: 3")
	passed, _, out := g.check(now)
	if passed || !strings.Contains(out, "the render is stale") {
		g.t.Errorf("at %s the check passed a pull request that changed a config without rendering:\n%s", now, out)
	}
	g.git("checkout", "-q", "--", ".")
}

// TestGitOpsCIYear drives the example's CI through a certificate's life: fresh, inside
// renewBefore, inside the overlap after the renewal, after the overlap. At each date
// the pull-request check passes on the committed render (by "nothing due, a re-render
// changes no byte", or by "a render is due"), fails a stale render, and the scheduled
// job changes the render exactly when a renewal or an overlap end is due. A pull
// request that changes a config while a renewal is due gets both in one render and
// passes.
func TestGitOpsCIYear(t *testing.T) {
	t0 := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	g := newGitopsRepo(t, t0)
	certs := g.verifyJSON(t0)
	renewal := certs[0].RenewalFrom
	for _, c := range certs {
		if c.RenewalFrom.Before(renewal) {
			renewal = c.RenewalFrom
		}
		if len(c.Due) != 0 || len(c.PreviousCAs) != 0 {
			t.Fatalf("a fresh render: %+v", c)
		}
	}

	// 1. Fresh: nothing due; the check re-renders and finds no diff.
	fresh := t0.Add(24 * time.Hour)
	if passed, due, out := g.check(fresh); !passed || due {
		t.Fatalf("fresh: the check did not pass by 'nothing due' (passed %v, due %v):\n%s", passed, due, out)
	}
	if d := g.changed(); d != "" {
		t.Fatalf("fresh: the check left changes:\n%s", d)
	}
	g.stalePR(fresh)
	if r := g.run(fresh, "ci/aggapi-ci.sh", "scheduled"); r.Err != nil || g.changed() != "" {
		t.Fatalf("fresh: the scheduled job changed the render or failed: %v\n%s\n%s", r.Err, g.changed(), r.Output())
	}

	// 2. Inside renewBefore: the check passes (a date is no mistake), a stale render
	// still fails, a config change rendered today carries the renewal too.
	inside := renewal.Add(time.Hour)
	if passed, due, out := g.check(inside); !passed || !due {
		t.Fatalf("inside renewBefore: the check did not pass by 'a render is due' (passed %v, due %v):\n%s", passed, due, out)
	}
	g.git("checkout", "-q", "--", ".")
	g.stalePR(inside)
	t.Run("a config change while a renewal is due", func(t *testing.T) {
		testutil.ReplaceOnce(t, filepath.Join(g.dir, "render", "aggapi.yaml"), "replicas: 2", "replicas: 3")
		if r := g.run(inside, "render.sh"); r.Err != nil {
			t.Fatalf("render.sh: %v\n%s", r.Err, r.Output())
		}
		for _, c := range g.verifyJSON(inside) {
			if len(c.Due) != 0 || len(c.PreviousCAs) != 1 {
				t.Errorf("the pull request's render of %s did not renew (due %v, %d previous CA)", c.Config, c.Due, len(c.PreviousCAs))
			}
		}
		g.commit("a config change while a renewal is due")
		if passed, due, out := g.check(inside); !passed || due {
			t.Errorf("the check of a config change rendered with its renewal: passed %v, due %v\n%s", passed, due, out)
		}
		g.git("reset", "-q", "--hard", "HEAD~1")
	})
	if r := g.run(inside, "ci/aggapi-ci.sh", "scheduled"); r.Err != nil || g.changed() == "" {
		t.Fatalf("inside renewBefore: the scheduled job renewed nothing: %v\n%s", r.Err, r.Output())
	}
	g.commit("merge the scheduled renewal")
	certs = g.verifyJSON(inside)
	leaves := certs[0].PreviousCAs[0].LeavesCABundle
	for _, c := range certs {
		if len(c.Due) != 0 || len(c.PreviousCAs) != 1 {
			t.Fatalf("after the renewal of %s: due %v, %d previous CA(s)", c.Config, c.Due, len(c.PreviousCAs))
		}
		if l := c.PreviousCAs[0].LeavesCABundle; l.After(leaves) {
			leaves = l
		}
	}

	// 3. Inside the overlap: both CAs trusted, nothing due, a re-render changes nothing.
	overlap := inside.Add(12 * time.Hour)
	if !overlap.Before(leaves) {
		t.Fatalf("the overlap ends %s, before %s", leaves, overlap)
	}
	if passed, due, out := g.check(overlap); !passed || due || g.changed() != "" {
		t.Fatalf("inside the overlap: passed %v, due %v, changes %q\n%s", passed, due, g.changed(), out)
	}
	g.stalePR(overlap)
	if r := g.run(overlap, "ci/aggapi-ci.sh", "scheduled"); r.Err != nil || g.changed() != "" {
		t.Fatalf("inside the overlap: the scheduled job changed the render or failed: %v\n%s", r.Err, g.changed())
	}

	// 4. After the overlap: the previous CA is due to leave; the check passes, the
	// scheduled job drops it, and then the render is stable.
	after := leaves.Add(time.Hour)
	if passed, due, out := g.check(after); !passed || !due {
		t.Fatalf("after the overlap: the check did not pass by 'a render is due' (passed %v, due %v):\n%s", passed, due, out)
	}
	g.git("checkout", "-q", "--", ".")
	g.stalePR(after)
	if r := g.run(after, "ci/aggapi-ci.sh", "scheduled"); r.Err != nil || g.changed() == "" {
		t.Fatalf("after the overlap: the scheduled job dropped nothing: %v\n%s", r.Err, r.Output())
	}
	g.commit("merge the overlap end")
	for _, c := range g.verifyJSON(after) {
		if len(c.Due) != 0 || len(c.PreviousCAs) != 0 {
			t.Errorf("after the overlap end, %s: due %v, %d previous CA(s)", c.Config, c.Due, len(c.PreviousCAs))
		}
	}
	if passed, due, out := g.check(after); !passed || due || g.changed() != "" {
		t.Fatalf("after the overlap end was merged: passed %v, due %v, changes %q\n%s", passed, due, g.changed(), out)
	}
}

// TestCertificateLifeWalkthrough runs the walkthrough of docs/certificates.md ("A
// certificate's life, day by day") as TestDocsCommands does, and holds each text block
// to what the sh block above it prints: the dates the docs show are verify's.
func TestCertificateLifeWalkthrough(t *testing.T) {
	t.Parallel()
	const file, heading = "docs/certificates.md", "#### A certificate's life, day by day"
	text := string(testutil.ReadFile(t, filepath.Join(repoRoot, file)))
	start := strings.Index(text, "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("%s has no %q", file, heading)
	}
	startLine := strings.Count(text[:start+1], "\n") + 1
	endLine := startLine + strings.Count(text[start+1:], "\n") + 1
	if next := strings.Index(text[start+len(heading)+2:], "\n#"); next >= 0 {
		endLine = startLine + strings.Count(text[start+1:start+len(heading)+2+next], "\n")
	}
	var blocks []testutil.DocBlock
	for _, b := range testutil.DocBlocks(t, repoRoot) {
		if b.File == file && b.Line > startLine && b.Line < endLine {
			blocks = append(blocks, b)
		}
	}
	root, env := docsRoot(t)
	shown := 0
	for i, b := range blocks {
		if b.Lang != "sh" {
			continue
		}
		r := testutil.Cmd{Dir: root, Env: env}.Run(t, "bash", "-euo", "pipefail", "-c", b.Body)
		if r.Err != nil {
			t.Fatalf("%s: %v\n%s", b, r.Err, r.Output())
		}
		if i+1 < len(blocks) && blocks[i+1].Lang == "text" {
			shown++
			if got, want := strings.TrimSpace(string(r.Stdout)), strings.TrimSpace(blocks[i+1].Body); got != want {
				t.Errorf("%s shows other output than %s prints: %s", blocks[i+1], b, firstDiff(want, got))
			}
		}
	}
	if shown < 4 {
		t.Errorf("the walkthrough shows the output of %d commands, want every step's", shown)
	}
}
