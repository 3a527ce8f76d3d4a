package enrich

import (
	"context"
	"time"

	"shoebox/catalog"
	"shoebox/enrich/places"
)

// Places is the extractor that places a photo with GPS (after Metadata,
// which reads the position): country, region, nearest city and time
// zone, offline (package places). Where the file gave a time but no UTC
// offset, the offset in force at the place at that time is derived from
// its zone (SetPlace says how).
type Places struct {
	Index *places.Index
}

var _ Extractor = Places{}

// Name implements Extractor.
func (Places) Name() string { return "places" }

// Extract implements Extractor.
func (x Places) Extract(ctx context.Context, in *Input, m *catalog.Media) error {
	SetPlace(x.Index, m)
	return nil
}

// SetPlace sets the Place of a photo or video from its Lat/Lon (nil
// without them, or for other files: a Takeout sidecar has a position
// too) and reports whether the record changed. An offset it derived before is
// undone first, then, where the record has no offset:
//
//   - a local time without offset (EXIF without OffsetTimeOriginal, a
//     phone-style file name): the offset of the place's zone at that
//     local time, and TakenUTC from it (OffsetFromPlaceLocal). This
//     assumes the camera's clock showed local time, as phones do;
//   - a UTC time without offset (a video's container time, a Google
//     Takeout sidecar): the offset at that instant, and TakenLocal from
//     it (OffsetFromPlaceUTC), so /by-date files it under the local day.
//
// Modification and upload times are left as they are, and so is any
// position at sea where only a nautical zone (Etc/GMT±n) is known.
func SetPlace(ix *places.Index, m *catalog.Media) bool {
	before := *m
	var beforePlace catalog.Place
	if m.Place != nil {
		beforePlace = *m.Place
	}
	switch m.OffsetSource {
	case catalog.OffsetFromPlaceLocal:
		m.Offset, m.TakenUTC = "", ""
	case catalog.OffsetFromPlaceUTC:
		if t, err := time.Parse(time.RFC3339Nano, m.TakenUTC); err == nil {
			m.TakenLocal = t.UTC().Format("2006-01-02T15:04:05")
		}
		m.Offset = ""
	}
	m.OffsetSource = ""
	m.Place = nil
	if ix != nil && m.Lat != nil && m.Lon != nil && (m.Kind == "photo" || m.Kind == "video") {
		if p, ok := ix.Lookup(*m.Lat, *m.Lon); ok && p.City != "" {
			m.Place = &catalog.Place{CountryCode: p.CountryCode, Country: p.Country, Region: p.Region,
				City: p.City, DistanceKm: p.DistanceKm, Zone: ix.Zone(*m.Lat, *m.Lon)}
			deriveOffset(ix, m)
		}
	}
	same := m.Offset == before.Offset && m.TakenUTC == before.TakenUTC && m.TakenLocal == before.TakenLocal &&
		m.OffsetSource == before.OffsetSource && (m.Place == nil) == (before.Place == nil)
	if same && m.Place != nil {
		same = *m.Place == beforePlace
	}
	return !same
}

func deriveOffset(ix *places.Index, m *catalog.Media) {
	if m.Offset != "" || m.TakenLocal == "" {
		return
	}
	lat, lon := *m.Lat, *m.Lon
	switch {
	case m.TakenUTC == "" && (m.DateSource == "exif" || m.DateSource == "filename"):
		off, _, ok := ix.Offset(lat, lon, m.TakenLocal)
		if !ok {
			return
		}
		if t, err := time.Parse("2006-01-02T15:04:05.999999999Z07:00", m.TakenLocal+off); err == nil {
			m.Offset, m.TakenUTC, m.OffsetSource = off, t.UTC().Format(time.RFC3339Nano), catalog.OffsetFromPlaceLocal
		}
	case m.TakenUTC != "" && (m.DateSource == "exif" || m.DateSource == "takeout-json"):
		t, err := time.Parse(time.RFC3339Nano, m.TakenUTC)
		if err != nil {
			return
		}
		off, zone, ok := ix.OffsetAtUTC(lat, lon, t)
		if !ok {
			return
		}
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return
		}
		m.Offset, m.TakenLocal, m.OffsetSource = off, t.In(loc).Format("2006-01-02T15:04:05"), catalog.OffsetFromPlaceUTC
	}
}
