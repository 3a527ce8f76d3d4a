//go:build !linux

package s3storetest

// hasUserXattr is only probed on Linux; elsewhere versitygw is tried as is.
func hasUserXattr(dir string) bool { return true }
