package main

import (
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/internal/clitest"
)

// testNow is the fixed clock of the script tests.
var testNow = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) { clitest.Main(m, "hallmark", testNow, newRoot) }

func TestScripts(t *testing.T) { clitest.Run(t, nil) }
