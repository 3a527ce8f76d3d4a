package enrich

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"time"

	"shoebox/catalog"
	"shoebox/enrich/internal/resize"
)

// nearBlack is the mean luma (0-255) below which a frame is passed over.
const nearBlack = 32

// videoThumbnails makes a video's poster frame and, from it, its two
// thumbnails, through ffmpeg; without ffmpeg the video is marked
// catalog.ThumbnailWaiting. ffprobe's stream details go into m.Video.
func (x Metadata) videoThumbnails(ctx context.Context, in *Input, p *probed, m *catalog.Media) error {
	o := in.Object
	if o.SHA256 == "" {
		return nil
	}
	if x.FFmpeg == nil {
		m.ThumbnailState = catalog.ThumbnailWaiting
		return nil
	}
	ffm, ffp, ok := x.FFmpeg.Find()
	if !ok {
		m.ThumbnailState = catalog.ThumbnailWaiting
		return nil
	}
	lim := x.limits()
	timeout := x.FFmpeg.Timeout
	if timeout <= 0 {
		timeout = 90 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	vin, err := openInput(ctx, in.File, o.Size)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Key, err)
	}
	defer vin.done()
	fail := func(what string, err error) error {
		err = fmt.Errorf("%s: %s: %w", o.Key, what, err)
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return err // shutting down: retried later
		}
		return permanent{err}
	}
	st, err := probeStreams(ctx, ffp, vin, lim.maxBytes)
	if err != nil {
		return fail("reading the video's streams", err)
	}
	if err := lim.check("video frame", st.width, st.height, 1.5, 0); err != nil {
		return permanent{fmt.Errorf("%s: no poster frame: %w", o.Key, err)}
	}
	if m.Video == nil {
		m.Video = &catalog.VideoInfo{}
	}
	v := m.Video
	v.Codec, v.FrameRate, v.Bitrate = st.codec, st.frameRate, st.bitrate
	v.AudioCodec, v.AudioChannels, v.AudioSampleRate = st.audioCodec, st.audioChannels, st.audioHz
	dur := m.DurationS
	if dur <= 0 {
		dur = st.duration
	}
	if m.DurationS <= 0 && st.duration > 0 {
		m.DurationS = round(st.duration, 3)
	}
	// Where poster frames are tried, as fractions of the duration: the
	// first frame that is not near black wins (a fade from black, a lens
	// cap), else the brightest; past the end (a one-frame clip), the first.
	tries := []float64{round(dur*0.1, 3), round(dur*0.25, 3), round(dur*0.5, 3), round(dur*0.75, 3), 0}
	var best *image.RGBA
	bestLuma, bestT, tried := -1.0, 0.0, map[float64]bool{}
	for _, t := range tries {
		if tried[t] || t == 0 && best != nil {
			continue
		}
		tried[t] = true
		b, err := frameAt(ctx, ffm, vin, t, lim.maxBytes)
		if err != nil {
			if best != nil {
				break // a later seek failed (a truncated end): keep what we have
			}
			return fail("the poster frame", err)
		}
		if len(b) == 0 {
			continue
		}
		img, err := decodePoster(b, lim)
		if err != nil {
			return fail("the poster frame", err)
		}
		if l := meanLuma(img); l > bestLuma {
			best, bestLuma, bestT = img, l, t
		}
		if bestLuma >= nearBlack {
			break
		}
	}
	if best == nil {
		return permanent{fmt.Errorf("%s: the poster frame: ffmpeg decoded no frame", o.Key)}
	}
	v.PosterS = bestT
	small := resize.Fit(best, SmallSize, SmallSize)
	m.ThumbnailState = ""
	return x.putThumbs(ctx, o.Key, o.SHA256, best, small)
}

// decodePoster decodes ffmpeg's JPEG (at most PreviewSize on its long
// side) into an opaque RGBA image of the same size.
func decodePoster(b []byte, lim limits) (*image.RGBA, error) {
	img, err := decodeJPEG(io.NewSectionReader(bytes.NewReader(b), 0, int64(len(b))), lim, "poster frame")
	if err != nil {
		return nil, err
	}
	return resize.Fit(img, PreviewSize, PreviewSize), nil
}

// meanLuma is the mean BT.601 luma (0-255) of an opaque image, sampled
// on a grid of at most 64×64 points.
func meanLuma(img *image.RGBA) float64 {
	r := img.Bounds()
	if r.Empty() {
		return 0
	}
	sx, sy := max(r.Dx()/64, 1), max(r.Dy()/64, 1)
	var sum float64
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y += sy {
		for x := r.Min.X; x < r.Max.X; x += sx {
			i := img.PixOffset(x, y)
			p := img.Pix[i : i+3 : i+3]
			sum += 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
			n++
		}
	}
	return sum / float64(n)
}
