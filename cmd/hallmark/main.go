// Command hallmark is the operator's and auditor's tool: it runs the SLSA
// build-platform questionnaire, assesses the answers, and signs builder
// capability attestations.
//
// Exit codes: 0 success; 1 the check or verification failed; 2 bad usage or
// unreadable input.
package main

import (
	"os"

	"github.com/hallmark-build/hallmark/internal/cli"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	return cli.Execute(newRoot(cli.DefaultEnv()), args)
}
