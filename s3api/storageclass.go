package s3api

import (
	"net/http"
	"net/url"
)

// Storage classes. Shoebox has one tier; the class a client asks for
// (x-amz-storage-class on PutObject, CopyObject, CreateMultipartUpload and
// browser uploads) is checked, kept per object in its metadata under
// storageClassKey (where gofakes3 and multipart.go collect it), and
// reported as AWS does:
//   - a class AWS does not know is 400 InvalidStorageClass, nothing stored;
//   - STANDARD, the default, is not kept and never sent back as a header
//     (AWS leaves x-amz-storage-class out of GET and HEAD of STANDARD
//     objects); listings say STANDARD;
//   - any other class is answered by GET and HEAD (x-amz-storage-class),
//     and in ListObjects(V2), ListObjectVersions and GetObjectAttributes
//     (compat.go rewrites gofakes3's STANDARD), ListParts and
//     ListMultipartUploads (the class given at CreateMultipartUpload);
//     CopyObject gives its
//     destination the class it asks for, or STANDARD, as AWS does,
//     whatever the source's.
//
// Every class is served from the same disk: an object in GLACIER or
// DEEP_ARCHIVE is readable at once, without the RestoreObject AWS would
// require first.
const storageClassKey = "X-Amz-Storage-Class"

const standardClass = "STANDARD"

// validStorageClass reports whether v is a storage class AWS knows.
func validStorageClass(v string) bool {
	switch v {
	case "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
		"GLACIER", "GLACIER_IR", "DEEP_ARCHIVE", "OUTPOSTS", "EXPRESS_ONEZONE", "SNOW":
		return true
	}
	return false
}

// storageClassOf is the class an object's (or an upload's) metadata
// records: STANDARD when none.
func storageClassOf(meta map[string]string) string {
	if v := meta[storageClassKey]; v != "" {
		return v
	}
	return standardClass
}

// checkStorageClass refuses a request that creates an object with a class
// AWS does not know (400 InvalidStorageClass), and reports the class it
// asks for ("" for none).
func checkStorageClass(r *http.Request) (string, *BodyError) {
	v := r.Header.Get(storageClassKey)
	t := requestTarget(r)
	if v == "" || t.Key == "" {
		return "", nil
	}
	q, _ := url.ParseQuery(r.URL.RawQuery)
	// x-id is the operation's name, as AWS SDKs add it.
	q.Del("x-id")
	creates := (r.Method == http.MethodPut && len(q) == 0) || // PutObject, CopyObject
		(r.Method == http.MethodPost && q.Has("uploads")) // CreateMultipartUpload
	if !creates {
		return "", nil
	}
	if !validStorageClass(v) {
		return "", &BodyError{"InvalidStorageClass", "The storage class you specified is not valid", http.StatusBadRequest}
	}
	return v, nil
}

// withStorageClass sets the class of an object's metadata to class,
// keeping nothing for STANDARD.
func withStorageClass(meta map[string]string, class string) map[string]string {
	if class == "" || class == standardClass {
		delete(meta, storageClassKey)
		return meta
	}
	if meta == nil {
		meta = map[string]string{}
	}
	meta[storageClassKey] = class
	return meta
}
