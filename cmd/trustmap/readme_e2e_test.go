//go:build e2e

package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMERecipes runs the README's two recipes (a package registry at
// upload time, a consumer before install) with bash, as a reader pastes
// them from the root of a clone: they must succeed and write nothing into
// the clone (keys and outputs go to scratch directories).
func TestREADMERecipes(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is required to run the README's recipes as a reader would")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", bin+"/", "../../cmd/hallmark", "../../cmd/trustmap").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	before := tree(t, root)
	for _, title := range []string{"Recipe: a package registry at upload time", "Recipe: a consumer before install"} {
		m := regexp.MustCompile("(?s)### " + regexp.QuoteMeta(title) + "\n.*?```sh\n(.*?)```").FindSubmatch(readme)
		if m == nil {
			t.Fatalf("README has no %q with a sh block", title)
		}
		cmd := exec.Command(bash, "-e", "-c", string(m[1]))
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", title, err, out)
		} else if !strings.Contains(string(out), "PASSED") {
			t.Errorf("%s: nothing PASSED:\n%s", title, out)
		}
	}
	for p := range tree(t, root) {
		if !before[p] {
			t.Errorf("the recipes wrote %s into the clone", p)
			os.Remove(filepath.Join(root, p))
		}
	}
}

// tree lists the files under root (without .git).
func tree(t *testing.T, root string) map[string]bool {
	files := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files[rel] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
