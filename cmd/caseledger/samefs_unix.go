//go:build unix

package main

import "syscall"

// sameFileSystem reports whether a and b are on one file system; false
// when either cannot be looked at.
func sameFileSystem(a, b string) bool {
	var sa, sb syscall.Stat_t
	return syscall.Stat(a, &sa) == nil && syscall.Stat(b, &sb) == nil && sa.Dev == sb.Dev
}
