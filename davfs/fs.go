package davfs

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/net/webdav"

	"shoebox/catalog"
	"shoebox/gateway"
)

// FS is one user's library as a webdav.FileSystem: the user's buckets are
// the folders of its root. Names are slash-separated and absolute
// ("/bucket/key"). Errors are *fs.PathError so x/net/webdav and os.IsNotExist
// understand them. Files it opens hold their dead properties in the catalog
// (webdav.DeadPropsHolder) and report the catalog's ETag and content type.
type FS struct {
	gw   *gateway.Gateway
	user string
}

var _ webdav.FileSystem = (*FS)(nil)

// NewFS returns user's library as a webdav.FileSystem.
func NewFS(gw *gateway.Gateway, user string) *FS { return &FS{gw: gw, user: user} }

// split turns "/bucket/a/b" into ("bucket", "a/b"); the root is ("", "").
func split(name string) (bucket, key string, err error) {
	name = strings.Trim(name, "/")
	if name == "" {
		return "", "", nil
	}
	bucket, key, _ = strings.Cut(name, "/")
	// The key alone is held to S3's limits (1,024 bytes), not the path.
	for _, part := range []string{bucket, key} {
		if err := gateway.CheckKey(part); err != nil {
			return "", "", err
		}
	}
	return bucket, key, nil
}

func pathErr(op, name string, err error) error {
	switch {
	case errors.Is(err, gateway.ErrNotFound), errors.Is(err, gateway.ErrNoParent), errors.Is(err, catalog.ErrNotFound):
		err = fs.ErrNotExist
	case errors.Is(err, gateway.ErrExists):
		err = fs.ErrExist
	case errors.Is(err, gateway.ErrBadPath), errors.Is(err, gateway.ErrReserved):
		err = fs.ErrInvalid
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// Mkdir implements webdav.FileSystem.
func (f *FS) Mkdir(ctx context.Context, name string, perm os.FileMode) error {
	b, k, err := split(name)
	switch {
	case err != nil:
		return pathErr("mkdir", name, err)
	case b == "":
		return pathErr("mkdir", name, fs.ErrExist)
	case k == "":
		err = f.gw.CreateBucket(ctx, f.user, b)
	default:
		err = f.gw.Mkdir(ctx, f.user, b, k, false, true)
	}
	if err != nil {
		return pathErr("mkdir", name, err)
	}
	return nil
}

// RemoveAll implements webdav.FileSystem.
func (f *FS) RemoveAll(ctx context.Context, name string) error {
	b, k, err := split(name)
	if err != nil || b == "" {
		return pathErr("remove", name, fs.ErrPermission)
	}
	if k == "" {
		err = f.gw.RemoveBucket(ctx, f.user, b, true)
	} else {
		var o catalog.Object
		if o, err = f.gw.Stat(ctx, f.user, b, k); err == nil {
			err = f.gw.Remove(ctx, f.user, b, o.Key)
		}
	}
	if err != nil {
		return pathErr("remove", name, err)
	}
	return nil
}

// Rename implements webdav.FileSystem.
func (f *FS) Rename(ctx context.Context, oldName, newName string) error {
	sb, sk, err := split(oldName)
	if err != nil {
		return pathErr("rename", oldName, err)
	}
	db, dk, err := split(newName)
	if err != nil {
		return pathErr("rename", newName, err)
	}
	if sb == "" || db == "" || (sk == "") != (dk == "") {
		return pathErr("rename", oldName, fs.ErrPermission)
	}
	if sk == "" {
		err = f.gw.RenameBucket(ctx, f.user, sb, db)
	} else {
		var o catalog.Object
		if o, err = f.gw.Stat(ctx, f.user, sb, sk); err == nil {
			if o.IsDir() {
				dk += "/"
			}
			err = f.gw.Move(ctx, f.user, sb, o.Key, db, dk)
		}
	}
	if err != nil {
		return pathErr("rename", oldName, err)
	}
	return nil
}

// Stat implements webdav.FileSystem.
func (f *FS) Stat(ctx context.Context, name string) (os.FileInfo, error) {
	o, err := f.stat(ctx, name)
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	return fileInfo{o}, nil
}

func (f *FS) stat(ctx context.Context, name string) (catalog.Object, error) {
	b, k, err := split(name)
	if err != nil {
		return catalog.Object{}, err
	}
	if b == "" {
		return catalog.Object{Key: "/"}, nil
	}
	return f.gw.Stat(ctx, f.user, b, k)
}

// OpenFile implements webdav.FileSystem. A file opened for writing is
// staged as it is written and committed through the gateway on Close, so
// it replaces the old file atomically.
func (f *FS) OpenFile(ctx context.Context, name string, flag int, perm os.FileMode) (webdav.File, error) {
	b, k, err := split(name)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	o, statErr := f.stat(ctx, name)
	if statErr != nil && !(errors.Is(statErr, gateway.ErrNotFound) && flag&os.O_CREATE != 0) {
		return nil, pathErr("open", name, statErr)
	}
	h := &handle{fs: f, ctx: ctx, name: name, bucket: b, key: k, obj: o, flag: flag}
	if statErr == nil && (o.IsDir() || b == "" || k == "") {
		if flag&(os.O_WRONLY|os.O_RDWR) != 0 && flag&(os.O_CREATE|os.O_TRUNC) != 0 {
			return nil, pathErr("open", name, gateway.ErrIsDir)
		}
		h.dir = true
		return h, nil
	}
	if flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		if h.r, _, err = f.gw.Open(ctx, f.user, b, k); err != nil {
			return nil, pathErr("open", name, err)
		}
	}
	return h, nil
}

// handle is an open file or folder.
type handle struct {
	fs          *FS
	ctx         context.Context
	name        string
	bucket, key string
	obj         catalog.Object
	flag        int
	dir         bool
	listed      bool

	r gateway.File // reading

	pw      *io.PipeWriter // writing, started at the first Write
	putDone chan error
}

var _ webdav.DeadPropsHolder = (*handle)(nil)

func (h *handle) Read(p []byte) (int, error) {
	if h.r == nil {
		return 0, pathErr("read", h.name, fs.ErrInvalid)
	}
	return h.r.Read(p)
}

func (h *handle) Seek(off int64, whence int) (int64, error) {
	if h.r == nil {
		return 0, pathErr("seek", h.name, fs.ErrInvalid)
	}
	return h.r.Seek(off, whence)
}

func (h *handle) Write(p []byte) (int, error) {
	if h.dir || h.flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return 0, pathErr("write", h.name, fs.ErrPermission)
	}
	if h.pw == nil {
		h.startPut()
	}
	return h.pw.Write(p)
}

func (h *handle) startPut() {
	pr, pw := io.Pipe()
	h.pw, h.putDone = pw, make(chan error, 1)
	go func() {
		_, err := h.fs.gw.Put(h.ctx, gateway.PutInput{User: h.fs.user, Bucket: h.bucket, Key: h.key, Body: pr})
		pr.CloseWithError(err)
		h.putDone <- err
	}()
}

func (h *handle) Close() error {
	if h.r != nil {
		return h.r.Close()
	}
	if h.pw == nil && h.flag&(os.O_CREATE|os.O_TRUNC) != 0 && !h.dir {
		h.startPut() // an empty file
	}
	if h.pw != nil {
		h.pw.Close()
		if err := <-h.putDone; err != nil {
			return pathErr("close", h.name, err)
		}
	}
	return nil
}

func (h *handle) Readdir(count int) ([]fs.FileInfo, error) {
	if !h.dir {
		return nil, pathErr("readdir", h.name, gateway.ErrNotDir)
	}
	if h.listed {
		if count > 0 {
			return nil, io.EOF
		}
		return nil, nil
	}
	h.listed = true
	var out []fs.FileInfo
	if h.bucket == "" {
		bs, err := h.fs.gw.Buckets(h.ctx, h.fs.user)
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			out = append(out, fileInfo{catalog.Object{Bucket: b.Name, ModNs: b.Created.UnixNano()}})
		}
		return out, nil
	}
	dir := ""
	if h.key != "" {
		dir = strings.TrimSuffix(h.key, "/") + "/"
	}
	err := h.fs.gw.List(h.ctx, h.fs.user, h.bucket, dir, "", func(o catalog.Object) error {
		out = append(out, fileInfo{o})
		return nil
	})
	return out, err
}

func (h *handle) Stat() (fs.FileInfo, error) {
	if h.pw != nil || (h.obj.Key == "" && h.obj.Bucket == "" && !h.dir) {
		o, err := h.fs.stat(h.ctx, h.name)
		if err != nil {
			return nil, pathErr("stat", h.name, err)
		}
		return fileInfo{o}, nil
	}
	return fileInfo{h.obj}, nil
}

// DeadProps implements webdav.DeadPropsHolder.
func (h *handle) DeadProps() (map[xml.Name]webdav.Property, error) {
	if h.bucket == "" {
		return nil, nil
	}
	ps, err := h.fs.gw.Props(h.ctx, h.fs.user, h.bucket, h.obj.Key)
	if err != nil {
		return nil, err
	}
	m := make(map[xml.Name]webdav.Property, len(ps))
	for _, p := range ps {
		n := xml.Name{Space: p.Space, Local: p.Local}
		m[n] = webdav.Property{XMLName: n, Lang: p.Lang, InnerXML: []byte(p.Inner)}
	}
	return m, nil
}

// Patch implements webdav.DeadPropsHolder.
func (h *handle) Patch(patches []webdav.Proppatch) ([]webdav.Propstat, error) {
	if h.bucket == "" {
		return nil, pathErr("proppatch", h.name, fs.ErrPermission)
	}
	var ops []catalog.PropOp
	stat := webdav.Propstat{Status: http.StatusOK}
	for _, pp := range patches {
		for _, p := range pp.Props {
			ops = append(ops, catalog.PropOp{Remove: pp.Remove, Prop: catalog.Prop{
				Space: p.XMLName.Space, Local: p.XMLName.Local, Lang: p.Lang, Inner: string(p.InnerXML)}})
			stat.Props = append(stat.Props, webdav.Property{XMLName: p.XMLName})
		}
	}
	if err := h.fs.gw.PatchProps(h.ctx, h.fs.user, h.bucket, h.obj.Key, ops); err != nil {
		return nil, err
	}
	return []webdav.Propstat{stat}, nil
}

// fileInfo is a catalog row as an fs.FileInfo, with the optional
// webdav.ETager and webdav.ContentTyper methods.
type fileInfo struct{ o catalog.Object }

func (fi fileInfo) Name() string {
	if fi.o.Key == "" {
		if fi.o.Bucket == "" {
			return "/"
		}
		return fi.o.Bucket
	}
	return fi.o.Name()
}
func (fi fileInfo) Size() int64        { return fi.o.Size }
func (fi fileInfo) ModTime() time.Time { return fi.o.ModTime() }
func (fi fileInfo) IsDir() bool        { return fi.o.Key == "" || fi.o.Key == "/" || fi.o.IsDir() }
func (fi fileInfo) Sys() any           { return fi.o }
func (fi fileInfo) Mode() fs.FileMode {
	if fi.IsDir() {
		return fs.ModeDir | 0o755
	}
	return 0o644
}

// ETag implements webdav.ETager.
func (fi fileInfo) ETag(ctx context.Context) (string, error) { return fi.o.ETag(), nil }

// ContentType implements webdav.ContentTyper.
func (fi fileInfo) ContentType(ctx context.Context) (string, error) {
	if fi.IsDir() {
		return "", webdav.ErrNotImplemented
	}
	return fi.o.ContentType, nil
}
