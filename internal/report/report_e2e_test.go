//go:build e2e

package report

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("a Chromium browser is required for the report rendering test (.ci/run installs Debian's chromium)")
	return ""
}

// The HTML is rendered in a real headless browser: the matrix and every
// answer must be in the rendered DOM, and a screenshot is saved.
func TestHTMLInBrowser(t *testing.T) {
	bin := chromium(t)
	m, _ := Build(input(t))
	h, err := HTML(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, h, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--window-size=1200,1600"}
	run := func(extra ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, append(append(args, extra...), "file://"+page)...).Output()
		if err != nil {
			t.Fatalf("chromium %v: %v", extra, err)
		}
		return out
	}
	dom := string(run("--dump-dom"))
	rows := regexp.MustCompile(`<tr data-requirement="([^"]+)">`).FindAllStringSubmatch(dom, -1)
	if len(rows) != len(m.Matrix) || !strings.Contains(dom, `id="requirements-matrix"`) {
		t.Fatalf("rendered matrix has %d rows, want %d", len(rows), len(m.Matrix))
	}
	for _, c := range m.Components {
		if !strings.Contains(dom, "<th>"+c.Title+"</th>") {
			t.Errorf("matrix lacks the %s column", c.Title)
		}
	}
	for _, s := range m.Sections {
		for _, a := range s.Answers {
			if !strings.Contains(dom, `data-question="`+a.ID+`"`) {
				t.Errorf("answer %s missing from the rendered DOM", a.ID)
			}
		}
	}
	shot := filepath.Join(dir, "report.png")
	run("--screenshot=" + shot)
	st, err := os.Stat(shot)
	if err != nil || st.Size() < 10000 {
		t.Fatalf("screenshot: %v", err)
	}
	t.Logf("screenshot saved at %s (%d bytes)", shot, st.Size())
}
