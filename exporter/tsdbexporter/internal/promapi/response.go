package promapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/util/annotations"
)

// errorType is one of the error types of the Prometheus HTTP API.
type errorType string

const (
	errBadData     errorType = "bad_data"
	errExec        errorType = "execution"
	errTimeout     errorType = "timeout"
	errCanceled    errorType = "canceled"
	errInternal    errorType = "internal"
	errNotFound    errorType = "not_found"
	errUnavailable errorType = "unavailable"
)

// statusClientClosedRequest is what Prometheus answers when the client
// went away before the query finished.
const statusClientClosedRequest = 499

func (t errorType) status() int {
	switch t {
	case errBadData:
		return http.StatusBadRequest
	case errExec:
		return http.StatusUnprocessableEntity
	case errTimeout:
		return http.StatusServiceUnavailable
	case errCanceled:
		return statusClientClosedRequest
	case errNotFound:
		return http.StatusNotFound
	case errUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// apiError is an error with its Prometheus API error type.
type apiError struct {
	typ errorType
	err error
}

func (e *apiError) Error() string { return string(e.typ) + ": " + e.err.Error() }

func badData(err error) *apiError { return &apiError{errBadData, err} }

// queryError classifies an error from query evaluation as Prometheus does.
func queryError(err error) *apiError {
	var canceled promql.ErrQueryCanceled
	var timeout promql.ErrQueryTimeout
	var storage promql.ErrStorage
	switch {
	case errors.As(err, &canceled), errors.Is(err, context.Canceled):
		return &apiError{errCanceled, err}
	case errors.As(err, &timeout), errors.Is(err, context.DeadlineExceeded):
		return &apiError{errTimeout, err}
	case errors.As(err, &storage):
		return &apiError{errInternal, err}
	}
	return &apiError{errExec, err}
}

// response is the envelope of every Prometheus API answer.
type response struct {
	Status    string    `json:"status"`
	Data      any       `json:"data,omitempty"`
	ErrorType errorType `json:"errorType,omitempty"`
	Error     string    `json:"error,omitempty"`
	Warnings  []string  `json:"warnings,omitempty"`
	Infos     []string  `json:"infos,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, r response) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(r)
}

func writeData(w http.ResponseWriter, data any, annos annotations.Annotations) {
	warnings, infos := annos.AsStrings("", 0, 0)
	writeJSON(w, http.StatusOK, response{Status: "success", Data: data, Warnings: warnings, Infos: infos})
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.typ.status(), response{Status: "error", ErrorType: e.typ, Error: e.err.Error()})
}
