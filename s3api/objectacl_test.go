package s3api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestObjectACLBucketDiffers: an object's own canned ACL is what
// GetObjectAcl reports, whatever its bucket's, however it was set.
func TestObjectACLBucketDiffers(t *testing.T) {
	for _, real := range []bool{false, true} {
		t.Run(fmt.Sprintf("real-auth=%v", real), func(t *testing.T) { testObjectACLBucketDiffers(t, real) })
	}
}

func testObjectACLBucketDiffers(t *testing.T, real bool) {
	e := newEnv(t)
	if real {
		a := newAuthEnv(t)
		e.cli = a.alice
	}
	owner := grant{"CanonicalUser", "alice", "", "FULL_CONTROL"}
	allRead := grant{"Group", "", "http://acs.amazonaws.com/groups/global/AllUsers", "READ"}
	authRead := grant{"Group", "", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers", "READ"}
	objectGrants := func(t *testing.T, b, k string, want ...grant) {
		t.Helper()
		out, err := e.cli.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(b), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(grantsOf(out.Grants)) != fmt.Sprint(want) {
			t.Errorf("object %s/%s grants %v; want %v", b, k, grantsOf(out.Grants), want)
		}
	}
	for _, bacl := range []types.BucketCannedACL{types.BucketCannedACLPublicRead, types.BucketCannedACLPrivate, types.BucketCannedACLAuthenticatedRead} {
		b := "oacl-" + string(bacl)
		if _, err := e.cli.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b), ACL: bacl}); err != nil {
			t.Fatal(err)
		}
		putBody(t, e.cli, b, "src")
		for acl, want := range map[types.ObjectCannedACL][]grant{
			types.ObjectCannedACLPrivate:           {owner},
			types.ObjectCannedACLPublicRead:        {allRead, owner},
			types.ObjectCannedACLAuthenticatedRead: {authRead, owner},
		} {
			k := "put-" + string(acl)
			if _, err := e.cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), ACL: acl, Body: strings.NewReader("x")}); err != nil {
				t.Fatal(err)
			}
			objectGrants(t, b, k, want...)
			k = "mp-" + string(acl)
			cr, err := e.cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(k), ACL: acl})
			if err != nil {
				t.Fatal(err)
			}
			up, err := e.cli.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String(k), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("p")})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.cli.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(k), UploadId: cr.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}}); err != nil {
				t.Fatal(err)
			}
			objectGrants(t, b, k, want...)
			k = "copy-" + string(acl)
			if _, err := e.cli.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String(k), CopySource: aws.String(b + "/src"), ACL: acl}); err != nil {
				t.Fatal(err)
			}
			objectGrants(t, b, k, want...)
			k = "putacl-" + string(acl)
			putBody(t, e.cli, b, k)
			if _, err := e.cli.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(b), Key: aws.String(k), ACL: acl}); err != nil {
				t.Fatal(err)
			}
			objectGrants(t, b, k, want...)
		}
		// No ACL given: private, whatever the bucket's.
		putBody(t, e.cli, b, "plain")
		objectGrants(t, b, "plain", owner)
	}
}

func putBody(t *testing.T, c *s3.Client, b, k string) {
	t.Helper()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
}
