package enrich

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FFmpeg runs ffmpeg and ffprobe, which make the poster frames of videos
// and read their streams. They are optional: when they cannot be found,
// videos are marked catalog.ThumbnailWaiting, one log line says how to
// install them, and Watch queues the waiting videos again once they are
// there.
//
// Each run is a child process (no shell) under a timeout, with one
// thread, a cap on any single allocation (-max_alloc), no network
// (-protocol_whitelist file,pipe), only video container demuxers
// (-format_whitelist: a file claiming to be a playlist or a concat list
// is refused, so it cannot make ffmpeg read other files), no standard
// input, and its only output a JPEG on a pipe. The input is the store's
// open file handed over as file descriptor 3 (/dev/fd/3, not a path
// ffmpeg resolves in the store), or, for a store that is not a local
// file (upstream S3), an unnamed temporary copy. Go offers no portable
// way to cap a child's memory (setrlimit is not in os/exec's
// SysProcAttr): the bound is the timeout, -threads 1, -max_alloc and the
// pixel limit checked from the container before ffmpeg decodes anything.
type FFmpeg struct {
	// setting is the configured ffmpeg path; "" looks it up on the PATH.
	setting string
	// Timeout bounds one video's poster (all its ffmpeg runs); 0 means
	// 90 s.
	Timeout time.Duration
	log     *slog.Logger

	mu               sync.Mutex
	ffmpeg, ffprobe  string
	toldMissing, had bool
}

// NewFFmpeg returns the runner for the ffmpeg at path, or the one on the
// PATH when path is "". ffprobe is looked for beside it, then on the PATH.
func NewFFmpeg(path string, lg *slog.Logger) *FFmpeg {
	if lg == nil {
		lg = slog.Default()
	}
	return &FFmpeg{setting: path, log: lg.With("component", "enrich")}
}

// ffmpegHelp is the log line that says how to get video thumbnails.
const ffmpegHelp = "videos get no thumbnails until ffmpeg is installed (apt-get install ffmpeg, brew install ffmpeg, or the static builds at ffmpeg.org), on the PATH or set with --ffmpeg; they are made once it is there"

// Find returns the paths of ffmpeg and ffprobe, looking again each time
// they are missing; ok is false while either is. The first miss is
// logged, and the first find after a miss.
func (f *FFmpeg) Find() (ffmpeg, ffprobe string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ffmpeg != "" {
		if _, err := os.Stat(f.ffmpeg); err == nil {
			return f.ffmpeg, f.ffprobe, true
		}
		f.ffmpeg, f.ffprobe = "", "" // removed: look again
	}
	ffm, ffp, err := f.look()
	if err != nil {
		if !f.toldMissing {
			f.toldMissing = true
			f.log.Warn(ffmpegHelp, "err", err)
		}
		return "", "", false
	}
	f.ffmpeg, f.ffprobe = ffm, ffp
	if f.toldMissing || !f.had {
		f.log.Info("ffmpeg found: videos get poster frames and thumbnails", "ffmpeg", ffm, "ffprobe", ffp)
	}
	f.had, f.toldMissing = true, false
	return ffm, ffp, true
}

func (f *FFmpeg) look() (ffm, ffp string, err error) {
	if f.setting != "" {
		if ffm, err = exec.LookPath(f.setting); err != nil {
			return "", "", fmt.Errorf("the configured ffmpeg %q: %w", f.setting, err)
		}
		beside := filepath.Join(filepath.Dir(ffm), "ffprobe"+filepath.Ext(ffm))
		if ffp, err = exec.LookPath(beside); err == nil {
			return ffm, ffp, nil
		}
	} else if ffm, err = exec.LookPath("ffmpeg"); err != nil {
		return "", "", fmt.Errorf("ffmpeg is not on the PATH: %w", err)
	}
	if ffp, err = exec.LookPath("ffprobe"); err != nil {
		return "", "", fmt.Errorf("ffprobe is not beside %s nor on the PATH: %w", ffm, err)
	}
	abs, aerr := filepath.Abs(ffm)
	if aerr == nil {
		ffm = abs
	}
	return ffm, ffp, nil
}

// Watch looks for ffmpeg now and then every interval until ctx ends;
// while it is there, requeue queues the videos that waited for it, and
// wake is called when it queued any.
func (f *FFmpeg) Watch(ctx context.Context, every time.Duration, requeue func(context.Context) (int, error), wake func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, _, ok := f.Find(); ok {
			if n, err := requeue(ctx); err != nil {
				if ctx.Err() == nil {
					f.log.Error("requeue videos waiting for ffmpeg", "err", err)
				}
			} else if n > 0 {
				f.log.Info("making the thumbnails of videos that waited for ffmpeg", "videos", n)
				wake()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// videoInput is how ffmpeg reads one video: the argument to -i and the
// files it inherits.
type videoInput struct {
	arg   string
	extra []*os.File
	done  func()
}

// openInput hands the store's file to ffmpeg: an *os.File (local store)
// as descriptor 3, anything else through an unnamed temporary copy.
func openInput(ctx context.Context, r io.ReaderAt, size int64) (*videoInput, error) {
	if f, ok := r.(*os.File); ok {
		return fdInput(f, func() {}), nil
	}
	tmp, err := os.CreateTemp("", "shoebox-video-*")
	if err != nil {
		return nil, fmt.Errorf("a temporary copy for ffmpeg: %w", err)
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	if runtime.GOOS != "windows" {
		os.Remove(tmp.Name()) // unnamed: gone with the descriptor
	}
	if _, err := io.Copy(tmp, io.NewSectionReader(&ctxReaderAt{ctx, r}, 0, size)); err != nil {
		cleanup()
		return nil, fmt.Errorf("a temporary copy for ffmpeg: %w", err)
	}
	return fdInput(tmp, cleanup), nil
}

func fdInput(f *os.File, done func()) *videoInput {
	if runtime.GOOS == "windows" {
		return &videoInput{arg: "file:" + f.Name(), done: done}
	}
	return &videoInput{arg: "file:/dev/fd/3", extra: []*os.File{f}, done: done}
}

type ctxReaderAt struct {
	ctx context.Context
	r   io.ReaderAt
}

func (c *ctxReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.ReadAt(p, off)
}

// safeInputArgs are the options before -i of every run (ffprobe reads no
// standard input and has no filters).
func safeInputArgs(maxAlloc int64, ffmpeg bool) []string {
	args := []string{
		"-hide_banner", "-loglevel", "error",
		"-max_alloc", strconv.FormatInt(maxAlloc, 10),
		"-threads", "1",
		"-protocol_whitelist", "file,pipe",
		"-format_whitelist", "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi",
	}
	if ffmpeg {
		args = append(args, "-nostdin", "-filter_threads", "1")
	}
	return args
}

// maxFFmpegOutput caps what a run may write to its pipe.
const maxFFmpegOutput = 32 << 20

// run runs one program with args and returns what it wrote to stdout.
func run(ctx context.Context, prog string, in *videoInput, args []string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.ExtraFiles = in.extra
	cmd.Env = []string{} // no FFREPORT or the like from ours
	cmd.Dir = os.TempDir()
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = maxFFmpegOutput, 4<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(prog), ctx.Err())
	}
	if stdout.over {
		return nil, fmt.Errorf("%s wrote more than %d bytes", filepath.Base(prog), maxFFmpegOutput)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = "no message"
		}
		return nil, fmt.Errorf("%s: %w: %s", filepath.Base(prog), err, msg)
	}
	return stdout.Bytes(), nil
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	bytes.Buffer
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); len(p) > room {
		b.over = true
		b.Buffer.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// streams is what ffprobe says of a video.
type streams struct {
	codec                  string
	width, height          int
	frameRate              float64
	bitrate                int64
	duration               float64
	audioCodec             string
	audioChannels, audioHz int
}

// probeStreams runs ffprobe on the video.
func probeStreams(ctx context.Context, ffprobe string, in *videoInput, maxAlloc int64) (*streams, error) {
	args := append(safeInputArgs(maxAlloc, false), "-show_streams", "-show_format", "-of", "json", "-i", in.arg)
	out, err := run(ctx, ffprobe, in, args)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Streams []struct {
			CodecType    string `json:"codec_type"`
			CodecName    string `json:"codec_name"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			AvgFrameRate string `json:"avg_frame_rate"`
			RFrameRate   string `json:"r_frame_rate"`
			Channels     int    `json:"channels"`
			SampleRate   string `json:"sample_rate"`
			Disposition  struct {
				AttachedPic int `json:"attached_pic"`
			} `json:"disposition"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
			BitRate  string `json:"bit_rate"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("ffprobe's answer: %w", err)
	}
	s := &streams{}
	s.bitrate, _ = strconv.ParseInt(doc.Format.BitRate, 10, 64)
	s.duration, _ = strconv.ParseFloat(doc.Format.Duration, 64)
	for _, st := range doc.Streams {
		switch {
		case st.CodecType == "video" && s.codec == "" && st.Disposition.AttachedPic == 0:
			s.codec, s.width, s.height = st.CodecName, st.Width, st.Height
			if s.frameRate = parseRate(st.AvgFrameRate); s.frameRate == 0 {
				s.frameRate = parseRate(st.RFrameRate)
			}
		case st.CodecType == "audio" && s.audioCodec == "":
			s.audioCodec, s.audioChannels = st.CodecName, st.Channels
			s.audioHz, _ = strconv.Atoi(st.SampleRate)
		}
	}
	if s.codec == "" {
		return nil, errors.New("no video stream")
	}
	return s, nil
}

// parseRate reads ffprobe's "30000/1001"; 0 when unknown.
func parseRate(s string) float64 {
	n, d, ok := strings.Cut(s, "/")
	if !ok {
		f, _ := strconv.ParseFloat(s, 64)
		return f
	}
	a, _ := strconv.ParseFloat(n, 64)
	b, _ := strconv.ParseFloat(d, 64)
	if b == 0 {
		return 0
	}
	return round(a/b, 3)
}

// frameAt returns the first frame at or after t seconds as a JPEG whose
// long side is at most PreviewSize, rotated as the container asks
// (ffmpeg's autorotate); nil when there is no frame there.
func frameAt(ctx context.Context, ffmpeg string, in *videoInput, t float64, maxAlloc int64) ([]byte, error) {
	args := safeInputArgs(maxAlloc, true)
	if t > 0 {
		args = append(args, "-ss", strconv.FormatFloat(t, 'f', 3, 64))
	}
	fit := strconv.Itoa(PreviewSize)
	args = append(args, "-i", in.arg,
		"-map", "0:v:0", "-an", "-sn", "-dn", "-frames:v", "1",
		"-vf", "scale=w='min("+fit+",iw)':h='min("+fit+",ih)':force_original_aspect_ratio=decrease",
		"-f", "image2pipe", "-c:v", "mjpeg", "-q:v", "2", "pipe:1")
	return run(ctx, ffmpeg, in, args)
}
