package isobmff

import "testing"

func TestParseISO6709(t *testing.T) {
	tests := []struct {
		in       string
		lat, lon float64
		alt      *float64
		ok       bool
	}{
		{"+37.8199-122.4783+010.000/", 37.8199, -122.4783, ptr(10), true},
		{"+48.8584+002.2945/", 48.8584, 2.2945, nil, true},
		{"-33.8568+151.2153/", -33.8568, 151.2153, nil, true},
		{"+35.6586+139.7454-012.5/", 35.6586, 139.7454, ptr(-12.5), true},
		{"+37.8199-122.4783+010.000CRSWGS_84/", 37.8199, -122.4783, ptr(10), true},
		{"+37.8199-122.4783", 37.8199, -122.4783, nil, true}, // no closing slash
		{" +1.5+2.5/ ", 1.5, 2.5, nil, true},
		{"+00.0000+000.0000/", 0, 0, nil, true},
		{"+90-180/", 90, -180, nil, true},
		{"+3749.194-12228.698/", 37 + 49.194/60, -(122 + 28.698/60), nil, true},                         // degrees, minutes
		{"+374911.64-1222841.88/", 37 + 49.0/60 + 11.64/3600, -(122 + 28.0/60 + 41.88/3600), nil, true}, // degrees, minutes, seconds
		{"+4851-00217/", 48 + 51.0/60, -(2 + 17.0/60), nil, true},
		{"", 0, 0, nil, false},
		{"/", 0, 0, nil, false},
		{"48.8584+002.2945/", 0, 0, nil, false},  // no sign
		{"+48.8584/", 0, 0, nil, false},          // no longitude
		{"+91.0000+002.0000/", 0, 0, nil, false}, // latitude out of range
		{"+48.0000+181.0000/", 0, 0, nil, false}, // longitude out of range
		{"+4875.0+00217.0/", 0, 0, nil, false},   // 75 minutes
		{"+485170+0021700/", 0, 0, nil, false},   // 70 seconds
		{"+123.0+002.0/", 0, 0, nil, false},      // three latitude degree digits
		{"+48.85+002.29+/", 0, 0, nil, false},    // sign without an altitude
		{"+48.85+002.29 somewhere", 0, 0, nil, false},
		{"+.5+.5/", 0, 0, nil, false},
		{"+48.8584+002.2945+1e5/", 0, 0, nil, false},
	}
	for _, tt := range tests {
		lat, lon, alt, ok := ParseISO6709(tt.in)
		if ok != tt.ok {
			t.Errorf("ParseISO6709(%q) ok = %v; want %v", tt.in, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if !near(lat, tt.lat, 1e-9) || !near(lon, tt.lon, 1e-9) {
			t.Errorf("ParseISO6709(%q) = %v, %v; want %v, %v", tt.in, lat, lon, tt.lat, tt.lon)
		}
		if (alt == nil) != (tt.alt == nil) || alt != nil && !near(*alt, *tt.alt, 1e-9) {
			t.Errorf("ParseISO6709(%q) altitude = %v; want %v", tt.in, fmtPtr(alt), fmtPtr(tt.alt))
		}
	}
}

func FuzzParseISO6709(f *testing.F) {
	for _, s := range []string{"+37.8199-122.4783+010.000/", "+3749.194-12228.698/", "+374911.64-1222841.88CRSWGS_84/", "+-", "+9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lat, lon, _, ok := ParseISO6709(s)
		if ok && (lat < -90 || lat > 90 || lon < -180 || lon > 180) {
			t.Errorf("ParseISO6709(%q) = %v, %v: out of range", s, lat, lon)
		}
	})
}
