package node

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteBinaryImage reads back the image a binary becomes: ctr's name for
// it, user 65532, the binary as the entrypoint, and the same bytes every time.
func TestWriteBinaryImage(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "server")
	if err := os.WriteFile(bin, []byte("\x7fELF not really"), 0o755); err != nil {
		t.Fatal(err)
	}
	const ref = "registry.example/team/server:1.2.3"
	var first, second bytes.Buffer
	if err := WriteBinaryImage(&first, ref, bin); err != nil {
		t.Fatal(err)
	}
	if err := WriteBinaryImage(&second, ref, bin); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Error("two images of the same binary differ")
	}

	files := untar(t, first.Bytes())
	var index struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	decode(t, files["index.json"], &index)
	if len(index.Manifests) != 1 || index.Manifests[0].Annotations["io.containerd.image.name"] != ref {
		t.Fatalf("index.json does not name the image %s: %+v", ref, index)
	}
	var manifest struct {
		Config struct{ Digest string }   `json:"config"`
		Layers []struct{ Digest string } `json:"layers"`
	}
	decode(t, files[blobFile(index.Manifests[0].Digest)], &manifest)
	var config struct {
		Config struct {
			User       string   `json:"User"`
			Entrypoint []string `json:"Entrypoint"`
		} `json:"config"`
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	decode(t, files[blobFile(manifest.Config.Digest)], &config)
	if config.Config.User != "65532:65532" || len(config.Config.Entrypoint) != 1 || config.Config.Entrypoint[0] != "/server" {
		t.Errorf("image config: user %q, entrypoint %q; want 65532:65532 and [/server]", config.Config.User, config.Config.Entrypoint)
	}
	if len(manifest.Layers) != 1 || len(config.RootFS.DiffIDs) != 1 || config.RootFS.DiffIDs[0] != manifest.Layers[0].Digest {
		t.Fatalf("want one uncompressed layer whose digest is its diff id: %+v %+v", manifest.Layers, config.RootFS)
	}
	layer := untar(t, files[blobFile(manifest.Layers[0].Digest)])
	if got := layer["server"]; string(got) != "\x7fELF not really" {
		t.Errorf("the layer's /server holds %q", got)
	}
	if !strings.Contains(string(layer["etc/passwd"]), ":65532:65532:") {
		t.Errorf("/etc/passwd names no user 65532: %q", layer["etc/passwd"])
	}
}

func blobFile(digest string) string { return "blobs/sha256/" + strings.TrimPrefix(digest, "sha256:") }

func untar(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = data
	}
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}
