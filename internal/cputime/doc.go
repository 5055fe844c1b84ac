// Package cputime is the process's CPU time, for benchmarks that report
// ratios measured in one run: ratios of CPU times hold on a machine whose
// other processes take the CPUs away at random, where wall-clock ratios
// do not.
package cputime
