// Package nextcloud is Shoebox's Nextcloud front door: the URLs the
// official Nextcloud (and ownCloud) desktop and mobile apps call, on the
// WebDAV listener beside /dav/. It owns the routing of /status.php, /ocs/…,
// /remote.php/… and /index.php/…, and serves itself:
//
//   - /status.php: an installed, current, non-maintenance server named
//     Shoebox (no authentication, as Nextcloud).
//   - OCS under /ocs/v1.php/ and /ocs/v2.php/, JSON (?format=json or
//     Accept: application/json) or XML: cloud/capabilities (what Shoebox
//     really does: chunking, checksums, undelete, versioning; no sharing)
//     and cloud/user (authenticated; quota from the data disk).
//   - WebDAV at /remote.php/dav/files/USER/ and the legacy
//     /remote.php/webdav/: the same tree as /dav/, served by the same
//     davfs.Handler (shared locks) mounted there with davfs.WithMount. USER
//     must be the authenticated user, else 403.
//
// Each request goes through one pipeline: resolve the route, authenticate
// (Config.Authenticate, the same Basic auth and failed-login limiter as
// /dav/), authorize (USER), serve.
//
// Hooks for the parts built elsewhere are optional handlers in Config:
// Uploads (/remote.php/dav/uploads/USER/…, chunked upload v2), Trashbin
// (/remote.php/dav/trashbin/USER/…), Versions (/remote.php/dav/versions/
// USER/…), LoginFlow (/index.php/login/v2…, unauthenticated: it does its
// own) and Preview (/index.php/core/preview…). The dav hooks receive the
// request authenticated and authorized (the USER in the path is the
// user's) with the user in the context (auth.User). A nil hook answers
// 501 Not Implemented; an unknown path 404.
package nextcloud
