package web

import (
	"net/http"

	"shoebox/gateway/auth"
)

// FailedJob is a file whose enrichment failed (out of attempts), as
// GET /api/v1/failed lists it.
type FailedJob struct {
	Bucket   string `json:"bucket"`
	Key      string `json:"key"`
	Error    string `json:"error"`
	Attempts int    `json:"attempts"`
}

// failed answers GET /api/v1/failed: the user's failed enrichments, in key
// order, as {"failed": [FailedJob...]}.
func (h *Handler) failed(w http.ResponseWriter, r *http.Request) {
	jobs, err := h.cat.FailedJobs(r.Context(), auth.User(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]FailedJob, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, FailedJob{Bucket: j.Bucket, Key: j.Key, Error: j.Err, Attempts: j.Attempts})
	}
	writeJSON(w, http.StatusOK, map[string]any{"failed": out})
}

// retryFailed answers POST /api/v1/failed/retry: every failed enrichment
// of the user is queued again, its attempts reset; {"queued": N}.
func (h *Handler) retryFailed(w http.ResponseWriter, r *http.Request) {
	n, err := h.cat.RetryFailed(r.Context(), auth.User(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"queued": n})
}
