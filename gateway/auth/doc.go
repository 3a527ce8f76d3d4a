// Package auth checks users' passwords against the catalog and carries the
// authenticated user in a request's context. Passwords are bcrypt hashes;
// since bcrypt costs tens of milliseconds by design, a successful check is
// remembered for a few minutes under an HMAC of the password keyed with a
// per-process random key, so a busy sync client pays the cost once, and a
// changed or removed password stops working when the entry expires.
//
// App passwords (apppasswords.go) are random per-device passwords that
// Check accepts in place of the user's password; the catalog keeps their
// SHA-256 only, and each use reads the catalog, so revoking one (or
// removing the user) locks the device out at the next request.
//
// S3 access keys (NewAccessKey) cannot be hashed like passwords: AWS
// Signature V4 needs the clear secret on the server to recompute each
// signature. Their secrets are therefore stored encrypted: a Sealer seals
// them with AES-256-GCM under a 32-byte server key kept in its own file,
// <data>/secret.key (mode 0600, created on first use), outside the catalog.
// A stolen catalog alone gives out no secret; the catalog and the key file
// together do. Losing the key file makes every access key unusable (create
// new ones); passwords and files are not affected.
//
// Failed logins (Limiter, limiter.go) are logged at warn and slowed down
// per client address and per user, the same for every front end: Basic
// (WebDAV, the JSON API) answers an attempt that must wait with 429 Too
// Many Requests and Retry-After, S3 (s3api) with 503 SlowDown. An address
// that has not failed is never made to wait, so an attacker elsewhere
// cannot lock the real user out; a success forgives the user's own typos.
package auth
