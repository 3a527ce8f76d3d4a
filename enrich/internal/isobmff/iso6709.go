package isobmff

import (
	"strconv"
	"strings"
)

// ParseISO6709 reads a point in the ISO 6709 string form phones and
// cameras write into movies: latitude, longitude, optional altitude (metres),
// an optional "CRS…" and a closing "/" (which may be missing). Latitude and
// longitude may each be decimal degrees ("+37.8199-122.4783+010.000/"),
// degrees and decimal minutes ("+3749.194-12228.698/") or degrees, minutes
// and decimal seconds ("+374911.6-1222841.9/"). ok is false when s is not
// such a string or a value is out of range.
func ParseISO6709(s string) (lat, lon float64, alt *float64, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) > 128 {
		return 0, 0, nil, false
	}
	latNum, rest, ok1 := cutNumber(s)
	lonNum, rest, ok2 := cutNumber(rest)
	if !ok1 || !ok2 {
		return 0, 0, nil, false
	}
	lat, ok1 = latNum.angle(2, 90)
	lon, ok2 = lonNum.angle(3, 180)
	if !ok1 || !ok2 {
		return 0, 0, nil, false
	}
	if rest != "" && (rest[0] == '+' || rest[0] == '-') {
		var altNum number
		if altNum, rest, ok = cutNumber(rest); !ok {
			return 0, 0, nil, false
		}
		a, err := strconv.ParseFloat(altNum.String(), 64)
		if err != nil {
			return 0, 0, nil, false
		}
		alt = &a
	}
	if rest != "" && rest[0] != '/' && !strings.HasPrefix(rest, "CRS") {
		return 0, 0, nil, false
	}
	return lat, lon, alt, true
}

// number is a signed decimal number as written: "-", "122", "4783".
type number struct {
	neg       bool
	int, frac string
}

func (n number) String() string {
	s := n.int
	if n.frac != "" {
		s += "." + n.frac
	}
	if n.neg {
		s = "-" + s
	}
	return s
}

// cutNumber takes a sign, digits and optional decimals off the front of s.
func cutNumber(s string) (n number, rest string, ok bool) {
	if s == "" || (s[0] != '+' && s[0] != '-') {
		return n, s, false
	}
	n.neg = s[0] == '-'
	i := 1
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n.int = s[1:i]
	if n.int == "" {
		return n, s, false
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		n.frac, i = s[i+1:j], j
	}
	return n, s[i:], true
}

// angle is the value in degrees of a latitude (degDigits 2) or longitude
// (3) written as degrees (up to degDigits integer digits), degrees and
// minutes (2 more) or degrees, minutes and seconds (4 more).
func (n number) angle(degDigits int, limit float64) (float64, bool) {
	num := func(s string) float64 { // s is digits, maybe with one '.'
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return -1
		}
		return v
	}
	frac := ""
	if n.frac != "" {
		frac = "." + n.frac
	}
	var v float64
	switch d := len(n.int); {
	case d <= degDigits:
		v = num(n.int + frac)
	case d == degDigits+2:
		deg, min := num(n.int[:degDigits]), num(n.int[degDigits:]+frac)
		if min >= 60 {
			return 0, false
		}
		v = deg + min/60
	case d == degDigits+4:
		deg, min, sec := num(n.int[:degDigits]), num(n.int[degDigits:degDigits+2]), num(n.int[degDigits+2:]+frac)
		if min >= 60 || sec >= 60 {
			return 0, false
		}
		v = deg + min/60 + sec/3600
	default:
		return 0, false
	}
	if v < 0 || v > limit {
		return 0, false
	}
	if n.neg {
		v = -v
	}
	return v, true
}
