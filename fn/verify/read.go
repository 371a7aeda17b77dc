package verify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/internal/boundedfile"
	"github.com/aggapi/aggapi/fn/internal/resourcelist"
)

// DefaultMaxBytes bounds what one Reader reads, over every file and stdin together:
// rendered manifests of a few extension servers are well under a megabyte.
const DefaultMaxBytes = 64 << 20

// Reader reads manifests with bounds: regular files only (symlinks are followed; a
// device, FIFO or socket is an error, never a hang), at most MaxBytes over everything it
// reads, one YAML document decoded at a time, and no document whose nodes would need
// more than resourcelist.MemoryBudget of its size (checked on its bytes before it is
// parsed).
type Reader struct {
	// MaxBytes is the total size it reads; 0 means DefaultMaxBytes.
	MaxBytes int64
	// Keep, when set, sees every object as it is decoded and returns what to keep of it
	// (nil drops it), so memory follows what is kept, not what is read.
	Keep func(*yaml.RNode) *yaml.RNode
	// Reserve, when set, is told the heap the largest document of an input needs to
	// parse, before it is parsed (a caller sets its soft memory limit by it).
	Reserve func(need int64)

	read     int64
	overflow bool
}

// ReadManifests reads the objects of one path with a Reader of default limits that
// keeps whole objects.
func ReadManifests(path string, stdin io.Reader) ([]*yaml.RNode, error) {
	return (&Reader{}).Read(path, stdin)
}

// Read reads the objects of one path: "-" is stdin (multi-document YAML or a
// ResourceList), a directory is read recursively (*.yaml, *.yml; symlinked directories
// are not entered), anything else is a file. A ResourceList or List is unwrapped, bare
// lists of objects are flattened and what is not an object is dropped, so the checks
// never trip on other YAML.
func (r *Reader) Read(path string, stdin io.Reader) ([]*yaml.RNode, error) {
	if path == "-" {
		nodes, err := r.decode(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
		return nodes, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return r.file(path)
	}
	var all []*yaml.RNode
	// A trailing separator has a symlink named on the command line followed to its
	// directory; symlinks to directories inside it are not entered.
	err = filepath.WalkDir(path+string(filepath.Separator), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !matches(d.Name()) {
			return nil
		}
		nodes, err := r.file(p)
		all = append(all, nodes...)
		return err
	})
	return all, err
}

func matches(name string) bool {
	ext := filepath.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

func (r *Reader) file(path string) ([]*yaml.RNode, error) {
	f, err := boundedfile.Open(path)
	if err != nil {
		var notRegular *boundedfile.NotRegularError
		if errors.As(err, &notRegular) {
			return nil, fmt.Errorf("reading %s: it %v", path, notRegular)
		}
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > r.limit()-r.read {
		return nil, fmt.Errorf("reading %s: %w", path, &TooLargeError{r.limit()})
	}
	nodes, err := r.decode(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return nodes, nil
}

func (r *Reader) limit() int64 {
	if r.MaxBytes > 0 {
		return r.MaxBytes
	}
	return DefaultMaxBytes
}

// TooLargeError says the manifests are over the Reader's limit.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the manifests are larger than %d bytes, the limit of one run", e.Limit)
}

// budget counts what is read against the Reader's limit and stops at it; the overflow
// is also noted on the Reader.
type budget struct {
	r   *Reader
	src io.Reader
}

func (b budget) Read(p []byte) (int, error) {
	rest := b.r.limit() - b.r.read
	if rest <= 0 {
		// One byte past the limit tells input of exactly the limit from more.
		var one [1]byte
		n, err := b.src.Read(one[:])
		if n > 0 {
			b.r.overflow = true
			return 0, &TooLargeError{b.r.limit()}
		}
		return 0, err
	}
	if int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.src.Read(p)
	b.r.read += int64(n)
	return n, err
}

func (r *Reader) decode(src io.Reader) ([]*yaml.RNode, error) {
	data, err := resourcelist.ReadAll(budget{r, src})
	if r.overflow {
		return nil, &TooLargeError{r.limit()}
	}
	if err != nil {
		return nil, err
	}
	// A document is parsed whole: refuse one whose nodes would not fit its budget before
	// any is parsed, so no error comes after a partial read.
	var need int64
	err = resourcelist.Documents(data, func(doc []byte, line int) error {
		docNeed, err := resourcelist.CheckMemory(doc, fmt.Sprintf("the YAML document at line %d", line), line)
		need = max(need, docNeed)
		return err
	})
	if err != nil {
		return nil, err
	}
	if r.Reserve != nil {
		r.Reserve(need + int64(len(data)))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*yaml.RNode
	for {
		doc := &yaml.Node{}
		err := dec.Decode(doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
			if out, err = r.objects(out, yaml.NewRNode(doc.Content[0]), 0); err != nil {
				return nil, err
			}
		}
	}
}

// objects appends the objects of n to out: n itself, the items of a ResourceList or
// List, or the elements of a bare list. An object whose metadata is there but not a
// mapping is an error: no cluster takes it, and kyaml's name and namespace getters
// index such a node as if it were one (a one-element list panicked).
func (r *Reader) objects(out []*yaml.RNode, n *yaml.RNode, depth int) ([]*yaml.RNode, error) {
	if depth > 2 {
		return out, nil // a list of lists of objects is as deep as manifests go
	}
	switch n.YNode().Kind {
	case yaml.MappingNode:
		if kind := n.GetKind(); kind == "ResourceList" || kind == "List" {
			if items := n.Field("items"); items != nil {
				return r.objects(out, items.Value, depth+1)
			}
		}
		if md := n.Field("metadata"); md != nil && md.Value.YNode().Kind != yaml.MappingNode && !yaml.IsMissingOrNull(md.Value) {
			what := "an object without a kind"
			if k := n.GetKind(); k != "" {
				what = "a " + k
			}
			return nil, fmt.Errorf("line %d: %s whose `metadata` is a %s, want a mapping", md.Value.YNode().Line, what, resourcelist.Shape(md.Value.YNode()))
		}
		if r.Keep != nil {
			if n = r.Keep(n); n == nil {
				return out, nil
			}
		}
		return append(out, n), nil
	case yaml.SequenceNode:
		for _, e := range n.YNode().Content {
			var err error
			if out, err = r.objects(out, yaml.NewRNode(e), depth+1); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
