package backup_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"shoebox/catalog/backup"
)

// fakeCatalog writes n bytes of a pattern and says the next version is 42.
type fakeCatalog struct{ data []byte }

func (f fakeCatalog) Backup(ctx context.Context, w io.Writer, since uint64) (uint64, error) {
	for p := f.data; len(p) > 0; p = p[min(len(p), 1000):] {
		if _, err := w.Write(p[:min(len(p), 1000)]); err != nil {
			return 0, err
		}
	}
	return 42, nil
}

func TestRoundTrip(t *testing.T) {
	data := bytes.Repeat([]byte("catalog rows "), 50_000) // several frames
	for _, secret := range [][]byte{nil, []byte("0123456789abcdef0123456789abcdef")} {
		var buf bytes.Buffer
		tr, err := backup.Write(context.Background(), &buf, fakeCatalog{data}, backup.Manifest{Since: 7, Secret: secret != nil}, secret)
		if err != nil {
			t.Fatalf("Write: %v", err)
		}
		rd, err := backup.Open(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if rd.Manifest.Since != 7 || rd.Manifest.Secret != (secret != nil) || !bytes.Equal(rd.Secret, secret) || rd.Manifest.Format != backup.Format {
			t.Errorf("manifest %+v, secret %q; want since 7 and secret %q", rd.Manifest, rd.Secret, secret)
		}
		got, err := io.ReadAll(rd.Catalog())
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("catalog: %d bytes, %v; want the %d written", len(got), err, len(data))
		}
		tr2, err := rd.Finish()
		if err != nil || tr2 != tr || tr.Next != 42 {
			t.Errorf("Finish = %+v, %v; want %+v with Next 42", tr2, err, tr)
		}

		// Cut short, or one byte changed: refused.
		for _, bad := range [][]byte{buf.Bytes()[:buf.Len()/2], buf.Bytes()[:buf.Len()-3], flip(buf.Bytes(), buf.Len()/2)} {
			rd, err := backup.Open(bytes.NewReader(bad))
			if err == nil {
				_, err = rd.Finish()
			}
			if !errors.Is(err, backup.ErrCorrupt) {
				t.Errorf("a damaged backup (%d of %d bytes): %v; want ErrCorrupt", len(bad), buf.Len(), err)
			}
		}
	}
	if _, err := backup.Open(bytes.NewReader([]byte("PK\x03\x04 a zip file"))); !errors.Is(err, backup.ErrCorrupt) {
		t.Errorf("Open of another file: %v; want ErrCorrupt", err)
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0xff
	return c
}
