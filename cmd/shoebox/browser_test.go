package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"shoebox/davfs/web"
)

// browser drives one headless Chromium tab against a server, and records
// what must not happen: console errors, uncaught exceptions, dialogs.
type browser struct {
	t         *testing.T
	s         *server
	ctx       context.Context
	artifacts string
	shot      int

	mu       sync.Mutex
	problems []string
}

func newBrowser(t *testing.T, s *server) *browser {
	t.Helper()
	chrome := needTool(t, "chromium")
	dir := os.Getenv("SHOEBOX_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else {
		dir = filepath.Join(dir, t.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", dir)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900), chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	b := &browser{t: t, s: s, ctx: ctx, artifacts: dir}
	// The first run starts the browser; the listeners subscribe then.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.problem(fmt.Sprintf("console %s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
			}
		}
	}()
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for e, err := range dialogs {
			if err != nil {
				return
			}
			b.problem(fmt.Sprintf("a %s dialog opened: %q", e.Type, e.Message))
			go chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := cdp.Call(ctx, t, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
				return err
			}))
		}
	}()
	// The listeners hear the page: a probe error is recorded.
	b.do("probe the console", chromedp.Evaluate[chromedp.Void](`console.error("shoebox-probe")`))
	waitUntil(t, time.Minute, "the console probe", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return slices.ContainsFunc(b.problems, func(p string) bool { return strings.Contains(p, "shoebox-probe") })
	})
	b.forgive(func(p string) bool { return strings.Contains(p, "shoebox-probe") })
	return b
}

func (b *browser) problem(p string) {
	b.mu.Lock()
	b.problems = append(b.problems, p)
	b.mu.Unlock()
}

// forgive drops the problems recorded so far that ok accepts.
func (b *browser) forgive(ok func(string) bool) {
	b.mu.Lock()
	b.problems = slices.DeleteFunc(b.problems, ok)
	b.mu.Unlock()
}

// check fails the test for any problem recorded so far.
func (b *browser) check(step string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("%s: %s", step, p)
	}
	b.problems = nil
}

func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.screenshot("failed-" + strings.ReplaceAll(step, " ", "-"))
		b.t.Fatalf("%s: %v", step, err)
	}
}

// eval runs a JavaScript expression and decodes its value into v.
func (b *browser) eval(js string, v any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		b.t.Fatalf("evaluate %s: decode %s: %v", js, raw, err)
	}
}

// wait polls a JavaScript predicate until it holds (generous deadline:
// the machine is shared).
func (b *browser) wait(what, js string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Minute)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(2*time.Minute)))
	if err != nil {
		b.screenshot("failed-wait")
		b.t.Fatalf("waiting for %s (%s): %v", what, js, err)
	}
}

func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.shot++
	p := filepath.Join(b.artifacts, fmt.Sprintf("%02d-%s.png", b.shot, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Error(err)
	}
}

func (b *browser) hash(h string) {
	b.t.Helper()
	b.do("go to "+h, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("location.hash = %q", h)))
}

// click clicks the first element matching the CSS selector sel with
// modifier keys held (Shift, Ctrl).
func (b *browser) click(sel string, mods ...chromedp.Modifier) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Minute)
	defer cancel()
	// In the middle of the window: not under the sticky header.
	err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector(`+jsString(sel)+`).scrollIntoView({block: "center"})`))
	var nodes []*chromedp.Node
	if err == nil {
		nodes, err = chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(sel), chromedp.NodeVisible))
	}
	if err == nil {
		err = chromedp.Do(ctx, chromedp.MouseClickNode(nodes[0], chromedp.ButtonModifiers(mods...)))
	}
	if err != nil {
		b.screenshot("failed-click")
		b.t.Fatalf("click %s: %v", sel, err)
	}
}

func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// TestGalleryBrowser drives the web gallery in headless Chromium against
// the real binary with the shared test media: sign in; the timeline shows
// every photo under its day, newest first; the viewer shows a photo's
// details and arrows to the next; the search box finds a photo; an album
// made in the app is in /albums
// over WebDAV; a duplicate trashed in the duplicates view is restored from
// the trash view; an upload appears in the timeline; sign-out. Names
// that are markup (a file, an album) show as text and never run, and no
// page logs an error. Screenshots of each view are written to
// $SHOEBOX_ARTIFACTS (else a temporary directory, logged).
func TestGalleryBrowser(t *testing.T) {
	s := startServer(t)
	b := newBrowser(t, s)
	media := []string{"IMG-20170315-WA0003.jpg", "IMG_20180704_101500.jpg", "PXL_20230115_083000123.jpg", "beach_original.jpg",
		"beach_original (copy).jpg", "canon_eos.jpg", "forest.jpg", "iphone_tokyo.jpg", "rotated_orientation6.jpg", "clip.mp4", "screenshot.png"}
	s.putMedia(t, "admin", adminPW, "photos", media...)
	// A file named as markup, dated by the modification time sent.
	const hostile = `<img src=x onerror=alert(1)>.png`
	s.put("/dav/photos/"+url.PathEscape(hostile), string(pngBytes(t, 48, 36)), "X-OC-Mtime", "1400000000")
	s.waitQueue(t, 3*time.Minute)

	// What the timeline must show: every photo and video, by day newest
	// first, and in a day by time taken, newest first (from the media
	// records); photos taken at the same time by key, descending (the
	// capture-order index read backwards).
	type want struct{ day, date, key string }
	var wants []want
	for _, n := range append(media, hostile) {
		o := s.apiObject(t, "photos/"+url.PathEscape(n))
		if o.Media == nil || len(o.Media.TakenLocal) < 10 {
			t.Fatalf("%s has no date: %+v", n, o.Media)
		}
		wants = append(wants, want{o.Media.TakenLocal[:10], o.Media.TakenLocal, n})
	}
	slices.SortFunc(wants, func(a, c want) int {
		return cmp.Or(-cmp.Compare(a.day, c.day), -cmp.Compare(a.date, c.date), -cmp.Compare(a.key, c.key))
	})

	// Sign in.
	b.do("open the app", chromedp.Navigate(s.url("/")), chromedp.WaitVisible(chromedp.ID("signin")))
	b.screenshot("signin")
	b.do("sign in with a wrong password",
		chromedp.SendKeys(chromedp.ID("user"), "admin"), chromedp.SendKeys(chromedp.ID("password"), "wrong"),
		chromedp.Click(chromedp.ID("signin-button")))
	b.wait("the sign-in error", `document.getElementById("signin-error").textContent.length > 0`)
	// The refused sign-in is the one failed request the browser may log.
	b.forgive(func(p string) bool { return strings.Contains(p, "401") && strings.Contains(p, "api/v1/session") })
	b.do("sign in",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("password").value = ""`), chromedp.SendKeys(chromedp.ID("password"), adminPW),
		chromedp.Click(chromedp.ID("signin-button")))
	b.wait("the timeline", fmt.Sprintf(`document.querySelectorAll("#days .tile").length === %d && document.querySelector("#more.end") !== null`, len(wants)))
	b.wait("the first thumbnails", `[...document.querySelectorAll("#days .tile img")].slice(0, 4).every(i => i.complete && i.naturalWidth > 0)`)
	b.screenshot("timeline")

	// Every photo under its day, in order.
	var days []struct {
		Day  string   `json:"day"`
		Head string   `json:"head"`
		Keys []string `json:"keys"`
	}
	b.eval(`[...document.querySelectorAll("#days section.day")].map(s => ({day: s.dataset.day, head: s.querySelector("h2").textContent,
		keys: [...s.querySelectorAll(".tile")].map(t => t.dataset.key)}))`, &days)
	var got []want
	for _, d := range days {
		if d.Head == "" {
			t.Errorf("day %s has no heading", d.Day)
		}
		for _, k := range d.Keys {
			got = append(got, want{day: d.Day, key: k})
		}
	}
	if len(got) != len(wants) {
		t.Fatalf("timeline shows %d photos; want %d: %v", len(got), len(wants), days)
	}
	for i := range wants {
		if got[i].day != wants[i].day || got[i].key != wants[i].key {
			t.Errorf("timeline place %d: %s under %s; want %s under %s", i, got[i].key, got[i].day, wants[i].key, wants[i].day)
		}
	}
	// The hostile name is text: a tile titled with it, no <img src=x>.
	var hostileOK bool
	b.eval(fmt.Sprintf(`document.querySelector(".tile[title=" + CSS.escape(%s) + "]") !== null && document.querySelectorAll('img[src="x"]').length === 0`, jsString(hostile)), &hostileOK)
	if !hostileOK {
		t.Errorf("the file named %s is not shown as text", hostile)
	}
	var scrub []string
	b.eval(`[...document.querySelectorAll("#scrubber a.month")].map(a => a.dataset.from)`, &scrub)
	if len(scrub) == 0 || scrub[0] != wants[0].day[:7] {
		t.Errorf("scrubber months = %v; want the newest, %s, first", scrub, wants[0].day[:7])
	}
	b.check("timeline")

	// The viewer: the first photo's details, then the next by arrow key.
	first := wants[0]
	b.do("open the first photo", chromedp.Click(chromedp.CSS("#days .tile")))
	b.wait("the details", `document.querySelector("#details[data-loaded]") !== null`)
	var det map[string]string
	b.eval(`Object.fromEntries([...document.querySelectorAll("#details dd")].map(d => [d.dataset.field, d.textContent]))`, &det)
	if det["path"] != "photos/"+first.key || !strings.HasPrefix(det["date"], strings.Replace(first.date, "T", " ", 1)[:16]) || det["size"] == "" {
		t.Errorf("details of %s = %v", first.key, det)
	}
	b.screenshot("viewer")
	b.do("arrow to the next", chromedp.KeyEvent(kb.ArrowRight))
	b.wait("the next photo", fmt.Sprintf(`document.getElementById("viewer").dataset.key === %s && document.querySelector("#details[data-loaded]") !== null`, jsString(wants[1].key)))
	b.eval(`Object.fromEntries([...document.querySelectorAll("#details dd")].map(d => [d.dataset.field, d.textContent]))`, &det)
	if det["path"] != "photos/"+wants[1].key {
		t.Errorf("after ArrowRight the details are of %q; want photos/%s", det["path"], wants[1].key)
	}
	b.do("arrow back", chromedp.KeyEvent(kb.ArrowLeft))
	b.wait("the first photo again", fmt.Sprintf(`document.getElementById("viewer").dataset.key === %s`, jsString(first.key)))
	b.do("close the viewer", chromedp.KeyEvent(kb.Escape))
	b.wait("the viewer closed", `document.getElementById("viewer") === null`)
	b.check("viewer")

	// An album named as markup, made in the app, a photo added from the
	// viewer, seen over WebDAV.
	const album = `<img src=x onerror=alert(2)> Trip`
	b.hash("#/albums")
	b.do("make an album", chromedp.WaitVisible(chromedp.ID("album-name")), chromedp.SendKeys(chromedp.ID("album-name"), album),
		chromedp.Click(chromedp.ID("album-create")))
	b.wait("the album", fmt.Sprintf(`[...document.querySelectorAll("#albums .card .label")].some(l => l.textContent === %s)`, jsString(album)))
	b.screenshot("albums")
	b.hash("#/")
	b.wait("the timeline", `document.querySelectorAll("#days .tile").length > 0`)
	b.do("open a photo", chromedp.Click(chromedp.CSS(`#days .tile[data-key="canon_eos.jpg"]`)))
	b.wait("the album list", fmt.Sprintf(`[...document.querySelectorAll("#album-select option")].some(o => o.value === %s)`, jsString(album)))
	// Its exposure, from EXIF, in the details.
	b.wait("the details", `document.querySelector("#details[data-loaded]") !== null`)
	var exposure string
	b.eval(`(document.querySelector('#details dd[data-field="exposure"]') || {}).textContent || ""`, &exposure)
	if exposure != "1/250 s · f/8 · ISO 100 · 35 mm" {
		t.Errorf("exposure of canon_eos.jpg = %q; want 1/250 s · f/8 · ISO 100 · 35 mm", exposure)
	}
	b.do("add it to the album", chromedp.SetValue(chromedp.ID("album-select"), album), chromedp.Click(chromedp.ID("album-add")))
	b.wait("the photo added", `document.getElementById("flash").textContent.startsWith("Added")`)
	b.do("close the viewer", chromedp.KeyEvent(kb.Escape))
	resp, body := s.do("PROPFIND", "/dav/albums/"+url.PathEscape(album)+"/", nil, "Depth", "1")
	want207 := resp.StatusCode == 207 && strings.Contains(body, "canon_eos.jpg")
	if !want207 {
		t.Errorf("PROPFIND /dav/albums/%s: %d %.500s; want canon_eos.jpg in it", album, resp.StatusCode, body)
	}
	b.hash("#/albums/" + url.PathEscape(album))
	b.wait("the album's photo", `document.querySelector('.grid .tile[data-key="canon_eos.jpg"]') !== null`)
	var title string
	b.eval(`document.getElementById("album-title").textContent`, &title)
	if title != album {
		t.Errorf("album title = %q; want %q as text", title, album)
	}
	b.screenshot("album")
	b.check("albums")

	// Several photos selected in the timeline (Select, a click, then a
	// Shift-click for the range) go into the album at once; a selection
	// started with a Ctrl-click goes to the trash (and is restored).
	var picks []string
	for _, w := range wants[1:] {
		if w.key != hostile && w.key != "canon_eos.jpg" && !strings.HasPrefix(w.key, "beach_") {
			picks = append(picks, w.key)
		}
	}
	tileOf := func(key string) string { return `#days .tile[data-key=` + jsString(key) + `]` }
	idx := func(key string) int {
		return slices.IndexFunc(wants, func(w want) bool { return w.key == key })
	}
	b.hash("#/")
	b.wait("the timeline", fmt.Sprintf(`document.querySelectorAll("#days .tile").length === %d`, len(wants)))
	b.wait("the albums of the selection bar", fmt.Sprintf(`[...document.querySelectorAll("#sel-album option")].some(o => o.value === %s)`, jsString(album)))
	b.do("select mode", chromedp.Click(chromedp.ID("select-mode")))
	b.click(tileOf(picks[0]))
	b.click(tileOf(picks[2]), chromedp.ModifierShift)
	var range3 []string
	for _, w := range wants[idx(picks[0]) : idx(picks[2])+1] {
		range3 = append(range3, w.key)
	}
	b.wait("the range selected", fmt.Sprintf(`document.querySelectorAll("#days .tile.selected").length === %d && document.getElementById("sel-count").textContent === "%d selected"`, len(range3), len(range3)))
	var selected []string
	b.eval(`[...document.querySelectorAll("#days .tile.selected")].map(t => t.dataset.key)`, &selected)
	if !slices.Equal(selected, range3) {
		t.Errorf("Shift-click selected %v; want %v", selected, range3)
	}
	b.do("scroll to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	b.screenshot("selection")
	b.do("add the selection to the album", chromedp.SetValue(chromedp.ID("sel-album"), album), chromedp.Click(chromedp.ID("sel-add")))
	b.wait("the selection added", fmt.Sprintf(`document.getElementById("flash").textContent.startsWith("Added %d")`, len(range3)))
	resp, body = s.do("GET", "/api/v1/albums/"+url.PathEscape(album), nil)
	var albumItems struct{ Items []web.Item }
	if resp.StatusCode != 200 {
		t.Errorf("GET album: %d %.300s", resp.StatusCode, body)
	}
	decodeJSON(t, body, &albumItems)
	for _, k := range range3 {
		if !slices.ContainsFunc(albumItems.Items, func(it web.Item) bool { return it.Key == k }) {
			t.Errorf("album lacks %s after adding the selection: %.500s", k, body)
		}
	}
	b.do("select by Ctrl-click", chromedp.WaitVisible(chromedp.ID("select-mode")))
	b.click(tileOf(picks[0]), chromedp.ModifierCtrl)
	b.click(tileOf(picks[1]), chromedp.ModifierCtrl)
	b.wait("two selected", `document.getElementById("sel-count").textContent === "2 selected"`)
	b.do("trash the selection", chromedp.Click(chromedp.ID("sel-trash")))
	b.wait("the selection gone", fmt.Sprintf(`document.querySelectorAll("#days .tile").length === %d && document.querySelector("#days .tile.selected") === null`, len(wants)-2))
	for _, k := range picks[:2] {
		if resp, body := s.do("GET", "/dav/photos/"+url.PathEscape(k), nil); resp.StatusCode != 404 {
			t.Errorf("trashed %s: GET %d %.100s; want 404", k, resp.StatusCode, body)
		}
	}
	resp, body = s.do("GET", "/api/v1/trash", nil)
	var trash struct {
		Items []struct{ ID, Key string }
	}
	decodeJSON(t, body, &trash)
	if len(trash.Items) != 2 {
		t.Errorf("trash after trashing 2: %.500s", body)
	}
	for _, ti := range trash.Items {
		resp, body := s.do("POST", "/api/v1/trash/"+url.PathEscape(ti.ID)+"/restore", nil)
		if resp.StatusCode/100 != 2 {
			t.Errorf("restore %s: %d %.200s", ti.Key, resp.StatusCode, body)
		}
	}
	for _, k := range picks[:2] {
		s.get("/dav/photos/" + url.PathEscape(k))
	}
	b.check("selection")

	// Search from the header box.
	b.do("search", chromedp.SendKeys(chromedp.ID("search"), "canon\n"))
	b.wait("the search result", `document.querySelector('#main .grid .tile[data-key="canon_eos.jpg"]') !== null`)
	b.screenshot("search")
	b.check("search")

	// Places: countries, then cities, then the city's photos (a search
	// by country and city); a filter of the search page narrows it.
	b.hash("#/places")
	b.wait("the countries", `document.querySelector('#places .card[data-name="Japan"]') !== null`)
	b.screenshot("places")
	b.do("open a country", chromedp.Click(chromedp.CSS(`#places .card[data-name="Japan"]`)))
	b.wait("the cities", `document.querySelector('#places .card[data-name="Tokyo"]') !== null`)
	b.do("open a city", chromedp.Click(chromedp.CSS(`#places .card[data-name="Tokyo"]`)))
	b.wait("the city's photos", `document.querySelector('#main .grid .tile[data-key="iphone_tokyo.jpg"]') !== null`)
	var inTokyo []string
	b.eval(`[...document.querySelectorAll("#main .grid .tile")].map(t => t.dataset.key)`, &inTokyo)
	if !slices.Equal(inTokyo, []string{"iphone_tokyo.jpg"}) {
		t.Errorf("photos of Tokyo = %v; want [iphone_tokyo.jpg]", inTokyo)
	}
	b.wait("the filters", `document.getElementById("filter-country") !== null && document.getElementById("filter-country").value === "Japan"`)
	b.do("only videos", chromedp.SetValue(chromedp.ID("filter-kind"), "video"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("filter-kind").dispatchEvent(new Event("change"))`))
	b.wait("no videos in Tokyo", `location.hash.includes("kind=video") && location.hash.includes("city=Tokyo") && document.getElementById("no-results") !== null`)
	b.hash("#/tags")
	b.wait("the tags view", `document.querySelector("#tags .card, #no-tags") !== null`)
	b.check("places")

	// People: the view works with whatever faces the models found (none
	// without models installed).
	b.hash("#/people")
	b.wait("the people view", `document.querySelector("#people") !== null && (document.querySelector("#people .card, #people p") !== null)`)
	b.screenshot("people")

	// Duplicates: keep the original, the copy goes to the trash.
	b.hash("#/duplicates")
	b.wait("the duplicate group", `document.querySelector(".dupgroup .copy") !== null`)
	b.screenshot("duplicates")
	var copies []string
	b.eval(`[...document.querySelectorAll(".dupgroup .copy")].map(c => c.dataset.key)`, &copies)
	slices.Sort(copies)
	if !slices.Equal(copies, []string{"beach_original (copy).jpg", "beach_original.jpg"}) {
		t.Errorf("duplicate group = %v", copies)
	}
	b.do("keep the original", chromedp.Click(chromedp.CSS(`.copy[data-key="beach_original.jpg"] button.keep`)))
	b.wait("no duplicates left", `document.getElementById("no-duplicates") !== null`)
	if resp, body := s.do("GET", "/dav/photos/beach_original%20(copy).jpg", nil); resp.StatusCode != 404 {
		t.Errorf("the trashed copy: GET %d %.100s; want 404", resp.StatusCode, body)
	}
	s.get("/dav/photos/beach_original.jpg")
	b.check("duplicates")

	// Trash: the copy is there; restore it.
	b.hash("#/trash")
	b.wait("the trashed copy", `document.querySelector('.trashrow[data-key="beach_original (copy).jpg"]') !== null`)
	b.screenshot("trash")
	b.do("restore", chromedp.Click(chromedp.CSS(`.trashrow[data-key="beach_original (copy).jpg"] button.restore`)))
	b.wait("the trash empty", `document.getElementById("trash-empty") !== null`)
	s.get("/dav/photos/beach_original%20(copy).jpg")
	b.check("trash")

	// Upload: a new photo through the form, then in the timeline.
	up := filepath.Join(t.TempDir(), "uploaded.png")
	if err := os.WriteFile(up, pngBytes(t, 72, 40), 0o644); err != nil {
		t.Fatal(err)
	}
	b.hash("#/upload")
	b.wait("the buckets", `document.querySelector('#upload-bucket option[value="photos"]') !== null`)
	b.do("upload", chromedp.SetUploadFiles(chromedp.ID("upload-files"), []string{up}))
	b.wait("the upload done", `[...document.querySelectorAll("#progress li .state")].some(s => s.textContent === "done")`)
	b.screenshot("upload")
	s.get("/dav/photos/uploaded.png")
	s.waitQueue(t, 3*time.Minute)
	b.hash("#/")
	b.wait("the upload in the timeline", `document.querySelector('#days .tile[data-key="uploaded.png"] img') !== null`)
	b.check("upload")

	// Sign out: back to the form; the API no longer answers the page.
	b.do("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("signin")))
	var who string
	b.do("reload", chromedp.Navigate(s.url("/")), chromedp.WaitVisible(chromedp.ID("signin")))
	b.eval(`document.getElementById("who") === null ? "" : document.getElementById("who").textContent`, &who)
	if who != "" {
		t.Errorf("after sign-out the page shows user %q", who)
	}
	b.check("sign out")
}

// signIn signs the browser in as admin and waits for the timeline.
func (b *browser) signIn() {
	b.t.Helper()
	b.do("sign in", chromedp.Navigate(b.s.url("/")), chromedp.WaitVisible(chromedp.ID("signin")),
		chromedp.SendKeys(chromedp.ID("user"), "admin"), chromedp.SendKeys(chromedp.ID("password"), adminPW),
		chromedp.Click(chromedp.ID("signin-button")), chromedp.WaitVisible(chromedp.ID("signout")))
}

// TestGalleryPeopleBrowser: with the face models installed, the people
// view shows the persons /by-person has; renaming one in the app (to a
// name that is markup) renames its folder over WebDAV, and the name shows
// as text.
func TestGalleryPeopleBrowser(t *testing.T) {
	needTool(t, "chromium")
	s := newServer(t)
	installFaceModels(t, "--data", s.data)
	s.start()
	t.Cleanup(s.stop)
	s.mkcol("/dav/faces")
	// The held-out faces group into persons at the default threshold.
	dir := facesExtra
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if ext := filepath.Ext(e.Name()); e.IsDir() || (ext != ".jpg" && ext != ".png") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		s.put("/dav/faces/"+url.PathEscape(e.Name()), string(b))
	}
	s.waitQueue(t, 5*time.Minute)
	var ppl struct {
		People []struct{ ID, Label string }
	}
	waitUntil(t, 5*time.Minute, "a person", func() bool {
		_, body := s.do("GET", "/api/v1/people", nil)
		decodeJSON(t, body, &ppl)
		return len(ppl.People) > 0
	})
	b := newBrowser(t, s)
	b.signIn()
	b.hash("#/people")
	b.wait("the person cards", `document.querySelectorAll("#people .card.person img").length > 0 && [...document.querySelectorAll("#people .card.person img")].every(i => i.complete && i.naturalWidth > 0)`)
	b.screenshot("people")
	p := ppl.People[0]
	b.hash("#/people/" + url.PathEscape(p.ID))
	b.wait("the person's photos", `document.querySelectorAll(".grid .tile").length > 0 && document.getElementById("person-name") !== null`)
	const name = `<img src=x onerror=alert(3)> Bona`
	b.do("rename", chromedp.SendKeys(chromedp.ID("person-name"), name), chromedp.Click(chromedp.CSS(`#rename-person button[type="submit"]`)))
	b.wait("the people view again", fmt.Sprintf(`[...document.querySelectorAll("#people .card .label")].some(l => l.textContent === %s)`, jsString(name)))
	b.screenshot("people-renamed")
	if folders := s.names(t, "/dav/by-person/"); !slices.Contains(folders, name+"/") {
		t.Errorf("/dav/by-person/ = %v; want %q", folders, name)
	}
	// The viewer boxes the person's face, named as text.
	b.hash("#/people/" + url.PathEscape(p.ID))
	b.wait("the person's photos", `document.querySelectorAll(".grid .tile").length > 0`)
	b.do("open a photo", chromedp.Click(chromedp.CSS(".grid .tile")))
	b.wait("the face box", fmt.Sprintf(`[...document.querySelectorAll("#frame .facebox")].some(f => f.dataset.person === %s && f.textContent === %s)`, jsString(name), jsString(name)))
	b.screenshot("viewer-faces")
	b.check("people")
}
