// Package web serves Shoebox's web gallery and the JSON API it uses, on
// the WebDAV listener: the app at "/" (static files embedded from
// static/, plain JavaScript and CSS, no build step) and the API at
// "/api/v1/". The API is public: scripts use it with Basic
// authentication (a password or an app password), the app with a session
// cookie; both reach the same routes and the same per-user library.
//
// Ownership: this package owns no state but the sign-in sessions (in
// memory, see session.go). Every change goes to the owner the other front
// ends use: uploads, deletes, restores and purges through
// gateway.Gateway; albums through the catalog's album rows, as /albums
// does; persons through the People owner (enrich.People), as /by-person
// does. What the app lists (person folders, duplicate groups, albums) is
// what virtualdirs lists, so the gallery and the folders always show one
// library. The timeline and search read one capture-order index: the
// timeline is catalog.Search with the zero Query (newest first, its
// cursor), then catalog.Files for the hits' rows and records; search
// (search.go) is catalog.Search with filters. Places and tags
// (places.go) list what /by-place and /by-tag list (catalog.Countries,
// Cities, Tags); their photos are searches.
//
// Security: every route reads the user from the request's context, set
// by authenticate, and resolves buckets and keys in that user's namespace
// only. A session's changes need its CSRF token in X-CSRF-Token; a Basic
// change must not come from another site's page (Sec-Fetch-Site, Origin).
// Every answer carries a strict Content-Security-Policy (no inline
// script, no eval); the app builds its pages with textContent only, so
// file, album and person names are never markup.
package web
