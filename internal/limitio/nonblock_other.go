//go:build !unix

package limitio

const nonBlock = 0
