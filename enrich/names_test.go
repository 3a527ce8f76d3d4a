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

// Dates are taken as the camera wrote them: odd years, missing seconds or
// time, other separators; zeros and blanks are no date.
func TestParseExifDate(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"2019:06:12 14:03:22", "2019-06-12T14:03:22", true},
		{"2099:01:01 00:00:00", "2099-01-01T00:00:00", true},
		{"2019:06:12 14:03", "2019-06-12T14:03:00", true},
		{"2019:06:12", "2019-06-12T00:00:00", true},
		{"2019-06-12T14:03:22", "2019-06-12T14:03:22", true},
		{"2019:06:12 14:03:60", "2019-06-12T14:03:59", true}, // a leap second, kept in the minute
		{"0000:00:00 00:00:00", "", false},
		{"    :  :     :  :  ", "", false},
		{"", "", false},
		{"2019:02:30 10:00:00", "", false},
		{"2019:13:01 10:00:00", "", false},
		{"19:06:12 14:03:22", "", false},
	}
	for _, tc := range tests {
		got, ok := ParseExifDate(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseExifDate(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	for in, want := range map[string]string{"+02:00": "+02:00", "-0700": "-07:00", "+9": "+09:00", "Z": "+00:00", "+05:30": "+05:30", "02:00": "", "+25:00": "", "": ""} {
		if got, _ := parseOffset(in); got != want {
			t.Errorf("parseOffset(%q) = %q; want %q", in, got, want)
		}
	}
}
