package main

import (
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"shoebox/catalog"
)

// httpMetrics counts requests, bytes and latency by protocol, method and status.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bytesIn  *prometheus.CounterVec
	bytesOut *prometheus.CounterVec
	// inFlight counts the requests being served (busy).
	inFlight atomic.Int64
}

// busy reports whether a client request is being served.
func (m *httpMetrics) busy() bool { return m.inFlight.Load() > 0 }

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoebox_http_requests_total", Help: "HTTP requests by protocol, method and status.",
		}, []string{"protocol", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shoebox_http_request_duration_seconds", Help: "HTTP request latency by protocol, method and status.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14),
		}, []string{"protocol", "method", "status"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoebox_http_request_bytes_total", Help: "Request body bytes received.",
		}, []string{"protocol", "method"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoebox_http_response_bytes_total", Help: "Response body bytes sent.",
		}, []string{"protocol", "method"}),
	}
	reg.MustRegister(m.requests, m.duration, m.bytesIn, m.bytesOut)
	return m
}

// knownMethods bounds the method label's values.
var knownMethods = map[string]bool{
	"GET": true, "HEAD": true, "PUT": true, "POST": true, "DELETE": true, "OPTIONS": true,
	"MKCOL": true, "COPY": true, "MOVE": true, "PROPFIND": true, "PROPPATCH": true, "LOCK": true, "UNLOCK": true,
}

func (m *httpMetrics) wrap(protocol string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.inFlight.Add(1)
		defer m.inFlight.Add(-1)
		start := time.Now()
		method := r.Method
		if !knownMethods[method] {
			method = "OTHER"
		}
		// A shallow copy keeps the server's own request untouched, so its
		// Expect: 100-continue handling still sees its body reader.
		cr := &countingBody{ReadCloser: r.Body}
		r2 := *r
		r2.Body = cr
		rw := &recorder{ResponseWriter: w}
		h.ServeHTTP(rw, &r2)
		if rw.status == 0 {
			rw.status = http.StatusOK
		}
		status := strconv.Itoa(rw.status)
		m.requests.WithLabelValues(protocol, method, status).Inc()
		m.duration.WithLabelValues(protocol, method, status).Observe(time.Since(start).Seconds())
		m.bytesIn.WithLabelValues(protocol, method).Add(float64(cr.n))
		m.bytesOut.WithLabelValues(protocol, method).Add(float64(rw.n))
	})
}

type countingBody struct {
	io.ReadCloser
	n int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	return n, err
}

// recorder notes the status and counts bytes; ReadFrom keeps sendfile for GETs.
type recorder struct {
	http.ResponseWriter
	status int
	n      int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.n += int64(n)
	return n, err
}

func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := r.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(r.ResponseWriter, src)
	}
	r.n += n
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// enrichMetrics exposes the enrichment queue: its depth by state (read from
// the catalog at scrape time) and the tries finished, by result and kind of
// file (photo, video, other), with their durations.
type enrichMetrics struct {
	jobs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newEnrichMetrics(reg prometheus.Registerer, queue func() (catalog.QueueStats, error)) *enrichMetrics {
	m := &enrichMetrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoebox_enrich_jobs_total", Help: "Enrichment tries finished, by result (done, retry, failed) and kind of file.",
		}, []string{"result", "kind"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shoebox_enrich_duration_seconds", Help: "Time to enrich one file, by result and kind of file.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"result", "kind"}),
	}
	reg.MustRegister(m.jobs, m.duration, queueCollector{
		desc:  prometheus.NewDesc("shoebox_enrich_queue_jobs", "Enrichment jobs in the queue, by state.", []string{"state"}, nil),
		queue: queue,
	})
	return m
}

// queueCollector reads the queue once per scrape for all three states.
type queueCollector struct {
	desc  *prometheus.Desc
	queue func() (catalog.QueueStats, error)
}

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	q, err := c.queue()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for state, n := range map[string]int{"pending": q.Pending, "running": q.Running, "failed": q.Failed} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), state)
	}
}

func (m *enrichMetrics) observe(result, kind string, took time.Duration) {
	m.jobs.WithLabelValues(result, kind).Inc()
	m.duration.WithLabelValues(result, kind).Observe(took.Seconds())
}

// loginMetrics counts failed logins, and attempts refused because of
// earlier failures, by protocol (gateway/auth.Limiter reports both).
type loginMetrics struct {
	failures  *prometheus.CounterVec
	throttled *prometheus.CounterVec
}

func newLoginMetrics(reg prometheus.Registerer) *loginMetrics {
	m := &loginMetrics{
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoebox_login_failures_total", Help: "Logins refused for wrong credentials (unknown user, wrong password, unknown S3 access key, bad signature), by protocol.",
		}, []string{"protocol"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoebox_login_throttled_total", Help: "Login attempts refused unchecked, after earlier failures from the address or against the user (429, or S3 503 SlowDown), by protocol.",
		}, []string{"protocol"}),
	}
	for _, p := range []string{"webdav", "api", "s3"} { // shown from the start, at 0
		m.failures.WithLabelValues(p)
		m.throttled.WithLabelValues(p)
	}
	reg.MustRegister(m.failures, m.throttled)
	return m
}

func (m *loginMetrics) observe(protocol string, throttled bool) {
	if throttled {
		m.throttled.WithLabelValues(protocol).Inc()
	} else {
		m.failures.WithLabelValues(protocol).Inc()
	}
}
