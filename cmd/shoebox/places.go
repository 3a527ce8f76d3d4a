package main

import (
	"context"
	"log/slog"
	"time"

	"shoebox/catalog"
	"shoebox/enrich"
	"shoebox/enrich/places"
)

// loadPlaces decodes the embedded places data; nil (no places, logged)
// if it cannot, which only a broken build does.
func loadPlaces(lg *slog.Logger) *places.Index {
	start := time.Now()
	ix, err := places.Load()
	if err != nil {
		lg.Error("places data: photos are not placed", "err", err)
		return nil
	}
	lg.Debug("places data loaded", "cities", ix.Cities(), "version", ix.Version(), "took", time.Since(start))
	return ix
}

// fillPlaces places the records enriched before places existed, or with
// other places data (catalog.FillPlaces), without reading the files.
func fillPlaces(ctx context.Context, st *store, ix *places.Index, lg *slog.Logger) {
	if ix == nil {
		return
	}
	start := time.Now()
	n, err := st.cat.FillPlaces(ctx, ix.Version(), func(m *catalog.Media) bool { return enrich.SetPlace(ix, m) })
	if err != nil {
		lg.Error("place photos enriched before", "err", err)
		return
	}
	if n > 0 {
		lg.Info("placed photos enriched before", "photos", n, "took", time.Since(start))
	}
}
