//go:build !unix

package main

// sameFileSystem cannot tell where device numbers are not: it says no,
// and serve gives no warning.
func sameFileSystem(a, b string) bool { return false }
