package localfs

// NewLstatOnly is New with the fallback of nofollow.go (paths checked with
// Lstat), as where openat2 is missing.
func NewLstatOnly(dir string, opt Options) (*FS, error) {
	opt.noBeneath = true
	return New(dir, opt)
}

// UsesOpenat2 reports whether f resolves paths with openat2.
func (f *FS) UsesOpenat2() bool { return f.bn != nil }
