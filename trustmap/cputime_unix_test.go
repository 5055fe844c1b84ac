//go:build unix

package trustmap_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used (user and system, every
// thread: the garbage collector's work included). Ratios of CPU times
// measured in one run hold on a machine whose other processes take the
// CPUs away at random, where wall-clock ratios do not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
