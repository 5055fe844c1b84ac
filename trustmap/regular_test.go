//go:build unix

package trustmap_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hallmark-build/hallmark/trustmap"
)

// An artifact that is a device or a FIFO is refused at once (batch mode and
// the server read artifacts through the library).
func TestArtifactMustBeRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	prov, _ := os.ReadFile(filepath.Join(verifyDir, "cases", "pass-no-policy.intoto.jsonl"))
	for _, p := range []string{"/dev/zero", fifo} {
		_, err := trustmap.Verify(context.Background(), loadRoots(t), prov, []*trustmap.Artifact{trustmap.FileArtifact(p)},
			trustmap.VerifyOptions{At: verifyAt, Expect: &trustmap.Expectations{SourceURI: "https://git.example.com/app"}})
		if !errors.Is(err, trustmap.ErrNotRegularFile) {
			t.Errorf("%s: %v", p, err)
		}
	}
}
