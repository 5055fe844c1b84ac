//go:build unix

package limitio

import "syscall"

const nonBlock = syscall.O_NONBLOCK
