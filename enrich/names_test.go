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

func TestSidecarNames(t *testing.T) {
	long := "a_very_long_file_name_from_a_phone_backup_2019_x.jpg" // 52 characters
	for key, want := range map[string]string{
		"t/IMG_1234.jpg":        "t/IMG_1234.jpg.json",
		"IMG_1234-edited.jpg":   "IMG_1234.jpg.json",
		"IMG_1234(1).jpg":       "IMG_1234.jpg(1).json",
		"IMG_1234.jpg":          "IMG_1234.jpg.supplemental-metadata.json",
		"x/" + long:             "x/" + long[:46] + ".json",
		"PXL_20230115_0830.jpg": "PXL_20230115_0830.json",
	} {
		names := sidecarNames(key)
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("sidecarNames(%q) = %q; want %q among them", key, names, want)
		}
	}
}

func TestSidecarOf(t *testing.T) {
	for sidecar, want := range map[string]string{
		"a/IMG_1.jpg.json":                        "a/IMG_1.jpg",
		"IMG_1.jpg.supplemental-metadata.json":    "IMG_1.jpg",
		"IMG_1.jpg(1).json":                       "IMG_1(1).jpg",
		"IMG_1.jpg.supplemental-metadata(2).json": "IMG_1(2).jpg",
	} {
		if got := sidecarOf(sidecar); len(got) != 1 || got[0] != want {
			t.Errorf("sidecarOf(%q) = %q; want %q", sidecar, got, want)
		}
	}
}
