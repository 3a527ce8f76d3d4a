package s3api

import (
	"context"
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/rclone/gofakes3"

	"shoebox/catalog"
	"shoebox/gateway/auth"
)

// Canned ACLs. Shoebox has one kind of sharing, the public bucket (read by
// anyone, GET and HEAD); the canned ACLs S3 clients send are mapped onto it
// and kept so that GetBucketAcl and GetObjectAcl answer what was set:
//   - a bucket created or PutBucketAcl'd public-read or public-read-write
//     becomes public; private (or any other canned ACL) makes it private
//     again. The canned name is kept as a bucket property, next to the
//     catalog's public flag, which stays the authority (the CLI's "shoebox
//     bucket private" wins over a property saying public-read).
//     public-read-write reads back as such, and opens reads and browser
//     uploads (POST Object, postobject.go) only: no other anonymous
//     request writes.
//   - an object's canned ACL (x-amz-acl on PutObject, CopyObject or
//     PutObjectAcl) is kept in its metadata under aclMetaKey, never
//     returned as a header. An object made private with PutObjectAcl
//     cannot be read anonymously even in a public bucket ("private" on
//     upload is the default, and changes nothing); one marked public-read
//     can be read anonymously even in a private bucket (see PublicAccess).
//
// Grants in ACL bodies to other users are accepted and not kept (buckets
// are per user, and nothing is shared user to user); grants to e-mail
// addresses or to IDs no user has are refused (400).

// aclMetaKey holds an object's canned ACL in its metadata.
const aclMetaKey = "Shoebox-Acl"

// cannedACLProp is the bucket property (in s3NS) with its canned ACL.
const cannedACLProp = "CannedACL"

var cannedACLs = map[string]bool{
	"private": true, "public-read": true, "public-read-write": true, "authenticated-read": true,
	"aws-exec-read": true, "bucket-owner-read": true, "bucket-owner-full-control": true, "log-delivery-write": true,
}

func publicACL(canned string) bool { return canned == "public-read" || canned == "public-read-write" }

// checkCannedACL validates an x-amz-acl value.
func checkCannedACL(v string) error {
	if cannedACLs[v] {
		return nil
	}
	return gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "Invalid canned ACL: "+v)
}

const (
	allUsersURI  = "http://acs.amazonaws.com/groups/global/AllUsers"
	authUsersURI = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	xsiNS        = "http://www.w3.org/2001/XMLSchema-instance"
)

// aclBody is the AccessControlPolicy of a resource owned by owner with the
// canned ACL canned: group grants first, then the owner's FULL_CONTROL.
func aclBody(owner, canned string) []byte {
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString(`<AccessControlPolicy xmlns="` + s3NS + `"><Owner>` + ownerXML(owner) + `</Owner><AccessControlList>`)
	group := func(uri, perm string) {
		b.WriteString(`<Grant><Grantee xmlns:xsi="` + xsiNS + `" xsi:type="Group"><URI>` + uri + `</URI></Grantee><Permission>` + perm + `</Permission></Grant>`)
	}
	switch canned {
	case "public-read":
		group(allUsersURI, "READ")
	case "public-read-write":
		group(allUsersURI, "READ")
		group(allUsersURI, "WRITE")
	case "authenticated-read":
		group(authUsersURI, "READ")
	}
	b.WriteString(`<Grant><Grantee xmlns:xsi="` + xsiNS + `" xsi:type="CanonicalUser">` + ownerXML(owner) + `</Grantee><Permission>FULL_CONTROL</Permission></Grant>`)
	b.WriteString(`</AccessControlList></AccessControlPolicy>`)
	return []byte(b.String())
}

// cannedFromPolicy reads the canned ACL an AccessControlPolicy body amounts
// to (as far as Shoebox can keep it), for PutBucketAcl and PutObjectAcl
// with a body; ok is false when the body is not a policy.
func cannedFromPolicy(body []byte) (canned string, ok bool) {
	var p struct {
		XMLName xml.Name `xml:"AccessControlPolicy"`
		Grants  []struct {
			Grantee struct {
				URI string
			}
			Permission string
		} `xml:"AccessControlList>Grant"`
	}
	if xml.Unmarshal(body, &p) != nil {
		return "", false
	}
	read, write, authRead := false, false, false
	for _, g := range p.Grants {
		switch {
		case g.Grantee.URI == allUsersURI && g.Permission == "READ":
			read = true
		case g.Grantee.URI == allUsersURI && g.Permission == "WRITE":
			write = true
		case g.Grantee.URI == authUsersURI && g.Permission == "READ":
			authRead = true
		}
	}
	switch {
	case read && write:
		return "public-read-write", true
	case read:
		return "public-read", true
	case authRead:
		return "authenticated-read", true
	}
	return "private", true
}

// bucketACL returns the canned ACL of the user's bucket.
func (b *backend) bucketACL(ctx context.Context, user, bucket string) string {
	bk, err := b.gw.Catalog().GetBucket(ctx, user, bucket)
	if err != nil {
		return "private"
	}
	canned := ""
	if ps, err := b.gw.Props(ctx, user, bucket, ""); err == nil {
		for _, p := range ps {
			if p.Space == s3NS && p.Local == cannedACLProp {
				var v struct {
					Text string `xml:",chardata"`
				}
				if xml.Unmarshal([]byte("<v>"+p.Inner+"</v>"), &v) == nil {
					canned = v.Text
				}
			}
		}
	}
	switch {
	case bk.Public && !publicACL(canned):
		return "public-read"
	case !bk.Public && publicACL(canned):
		return "private"
	case canned == "":
		return "private"
	}
	return canned
}

// setBucketACL keeps canned as the bucket's ACL and makes the bucket public
// or private accordingly.
func (b *backend) setBucketACL(ctx context.Context, user, bucket, canned string) error {
	if b.bucketACL(ctx, user, bucket) == canned {
		return nil // clients set the same ACL again and again, side by side
	}
	if err := b.gw.Catalog().SetBucketPublic(ctx, user, bucket, publicACL(canned)); err != nil {
		return b.mapErr(ctx, bucket, "", err)
	}
	return b.gw.PatchProps(ctx, user, bucket, "", []catalog.PropOp{{Prop: catalog.Prop{Space: s3NS, Local: cannedACLProp, Inner: xmlText(canned)}}})
}

// objectACL returns the canned ACL of an object ("" when none was set:
// private).
func objectACL(o catalog.Object) string { return o.Meta[aclMetaKey] }

// setObjectACL keeps canned as the object's ACL.
func (b *backend) setObjectACL(ctx context.Context, user, bucket, key, canned string) error {
	err := b.gw.UpdateMeta(ctx, user, bucket, key, func(o *catalog.Object) {
		if o.Meta == nil {
			o.Meta = map[string]string{}
		}
		o.Meta[aclMetaKey] = canned
	})
	return b.mapErr(ctx, bucket, key, err)
}

// serveACL handles GetBucketAcl, GetObjectAcl, PutBucketAcl and
// PutObjectAcl around gofakes3, which checks the resource and the request
// (and would answer one fixed owner and no grants): on success the canned
// ACL is kept, or answered. It reports whether it served the request.
func serveACL(be *backend, w http.ResponseWriter, r *http.Request, next http.Handler, bucket, key string) bool {
	user := auth.User(r.Context())
	if user == "" || bucket == "" {
		return false
	}
	switch r.Method {
	case http.MethodGet:
		serveRewritten(w, r, next, func([]byte) []byte {
			canned := "private"
			if key == "" {
				canned = be.bucketACL(r.Context(), user, bucket)
			} else if o, err := be.gw.Catalog().Stat(r.Context(), user, bucket, key); err == nil && objectACL(o) != "" {
				canned = objectACL(o)
			}
			return aclBody(user, canned)
		})
		return true
	case http.MethodPut:
		canned := r.Header.Get("X-Amz-Acl")
		if canned != "" {
			if err := checkCannedACL(canned); err != nil {
				writeError(w, r, err)
				return true
			}
		} else if body, err := peekBody(r, 1<<20); err == nil {
			canned, _ = cannedFromPolicy(body)
			if !onlyGroupGrants(body) {
				if code, msg := be.checkUserGrants(r.Context(), body); code != "" {
					writeAuthError(w, r, code, msg, http.StatusBadRequest)
					return true
				}
				// Grants to other users are accepted and kept as nothing
				// more than the canned ACL the group grants make: buckets
				// are per user, and nothing is shared user to user.
			}
		}
		if canned != "" {
			// gofakes3 checks the resource, and takes only "private".
			r.Header.Set("X-Amz-Acl", "private")
		}
		bw := &bufWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(bw, r)
		if bw.status == http.StatusOK && canned != "" {
			var err error
			if key == "" {
				err = be.setBucketACL(r.Context(), user, bucket, canned)
			} else {
				err = be.setObjectACL(r.Context(), user, bucket, key, canned)
			}
			if err != nil {
				writeError(w, r, err)
				return true
			}
		}
		w.WriteHeader(bw.status)
		w.Write(bw.buf.Bytes())
		return true
	}
	return false
}

// grantee is who an ACL body grants to.
type grantee struct{ ID, URI, EmailAddress string }

// aclGrantees reads the grantees of an AccessControlPolicy body; ok is
// false when it is not XML.
func aclGrantees(body []byte) (gs []grantee, ok bool) {
	var p struct {
		Grants []struct {
			Grantee grantee
		} `xml:"AccessControlList>Grant"`
	}
	if xml.Unmarshal(body, &p) != nil {
		return nil, false
	}
	for _, g := range p.Grants {
		gs = append(gs, g.Grantee)
	}
	return gs, true
}

// grantOwnerID is the owner's ID in an ACL body as fixACLBody leaves it.
func grantOwnerID() string {
	return strings.TrimSuffix(strings.TrimPrefix(string(fakeOwnerID), "<ID>"), "</ID>")
}

// checkUserGrants refuses grants Shoebox cannot resolve: to an e-mail
// address (400 UnresolvableGrantByEmailAddress) or to a user ID that is
// neither the owner nor a Shoebox user (400 InvalidArgument). It returns
// the S3 error code and message, or "".
func (b *backend) checkUserGrants(ctx context.Context, body []byte) (code, msg string) {
	grantees, ok := aclGrantees(body)
	if !ok {
		return "MalformedACLError", "The XML you provided was not well-formed or did not validate against our published schema"
	}
	for _, g := range grantees {
		switch {
		case g.EmailAddress != "":
			return "UnresolvableGrantByEmailAddress", "The e-mail address you provided does not match any account on record."
		case g.URI != "" || g.ID == grantOwnerID():
		default:
			if _, err := b.gw.Catalog().GetUser(ctx, g.ID); err != nil {
				return "InvalidArgument", "Invalid id"
			}
		}
	}
	return "", ""
}

// onlyGroupGrants reports whether an AccessControlPolicy body (as
// fixACLBody leaves it) grants only to groups and to its owner, which
// Shoebox can keep as a canned ACL.
func onlyGroupGrants(body []byte) bool {
	grantees, ok := aclGrantees(body)
	if !ok {
		return false
	}
	for _, g := range grantees {
		if g.EmailAddress != "" || (g.URI == "" && g.ID != grantOwnerID()) {
			return false
		}
	}
	return true
}
