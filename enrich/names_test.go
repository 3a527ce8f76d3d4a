package enrich

import "testing"

func TestDateFromName(t *testing.T) {
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"IMG_20180704_101500.jpg", "2018-07-04T10:15:00", true},
		{"Camera/VID_20180704_101500.mp4", "2018-07-04T10:15:00", true},
		{"PXL_20230115_083000123.jpg", "2023-01-15T08:30:00.123", true},
		{"PXL_20230115_083000123.NIGHT.jpg", "2023-01-15T08:30:00.123", true},
		{"IMG-20170315-WA0003.jpg", "2017-03-15T00:00:00", true},
		{"VID-20170315-WA0001.mp4", "2017-03-15T00:00:00", true},
		{"IMG_20181304_101500.jpg", "", false}, // month 13
		{"IMG_20180704_256000.jpg", "", false}, // hour 25
		{"IMG_0001.jpg", "", false},
		{"beach_original.jpg", "", false},
		{"IMG_18800704_101500.jpg", "", false}, // before cameras
		{"XIMG_20180704_101500.jpg", "", false},
	}
	for _, tc := range tests {
		got, ok := DateFromName(tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("DateFromName(%q) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
