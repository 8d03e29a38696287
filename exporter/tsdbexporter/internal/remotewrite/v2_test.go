package remotewrite

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestV2ToARealReader sends remote write 2.0 to Prometheus' own write
// handler over a TSDB (Prometheus 3's receiver, which reads 2.0 and answers
// with the written counts): every sample lands and no fallback happens.
func TestV2ToARealReader(t *testing.T) {
	db, err := tsdb.Open(t.TempDir(), nil, nil, tsdb.DefaultOptions(), nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	var gotType atomic.Value // shards send at once
	h := remote.NewWriteHandler(nil, nil, db, remoteapi.MessageTypes{remoteapi.WriteV1MessageType, remoteapi.WriteV2MessageType}, false, false, false)
	srv := httptest.NewServer(writeOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotType.Store(r.Header.Get("Content-Type"))
		h.ServeHTTP(w, r)
	})))
	defer srv.Close()
	sender := newSender(t, srv, 2)
	sender.opts.V2 = true
	res, err := sender.Send(context.Background(), batch(20, 3, "team-a"))
	require.NoError(t, err)
	assert.False(t, sender.v1.Load(), "a 2.0 reader needs no fallback")
	assert.Equal(t, "application/x-protobuf;proto=io.prometheus.write.v2.Request", gotType.Load())
	assert.Equal(t, 21, res.Series)

	n, samples := stored(t, db, "g", func(ls labels.Labels) {
		assert.Equal(t, "team-a", ls.Get("tenant"))
	})
	assert.Equal(t, 20, n)
	assert.Equal(t, 60, samples)
}

// stored counts the series named name in db and their samples, handing
// each series' labels to check.
func stored(t *testing.T, db *tsdb.DB, name string, check func(labels.Labels)) (series, samples int) {
	t.Helper()
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	require.NoError(t, err)
	defer func() { require.NoError(t, q.Close()) }()
	set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", name))
	for set.Next() {
		series++
		check(set.At().Labels())
		it := set.At().Iterator(nil)
		for it.Next() != 0 {
			samples++
		}
	}
	require.NoError(t, set.Err())
	return series, samples
}

// TestV2FallsBackTo1 covers both signs of an endpoint that does not read
// 2.0: a 415, and a 2xx without the written-count headers (what Prometheus
// 2.42 and VictoriaMetrics 1.79 answer while storing nothing).
func TestV2FallsBackTo1(t *testing.T) {
	for name, v2Answer := range map[string]int{"415": http.StatusUnsupportedMediaType, "204 without headers": http.StatusNoContent} {
		t.Run(name, func(t *testing.T) {
			var v1Requests, v2Requests int
			srv := httptest.NewServer(writeOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				if strings.Contains(r.Header.Get("Content-Type"), "write.v2") {
					v2Requests++
					w.WriteHeader(v2Answer)
					return
				}
				v1Requests++
				w.WriteHeader(http.StatusNoContent)
			})))
			defer srv.Close()
			var logged []string
			sender := newSender(t, srv, 1)
			sender.opts.V2 = true
			sender.opts.Logger = func(msg string) { logged = append(logged, msg) }
			_, err := sender.Send(context.Background(), batch(3, 1, "a"))
			require.NoError(t, err)
			assert.Equal(t, 1, v2Requests)
			assert.Equal(t, 1, v1Requests, "the same request goes again in 1.0")
			_, err = sender.Send(context.Background(), batch(3, 1, "a"))
			require.NoError(t, err)
			assert.Equal(t, 1, v2Requests, "after the fallback, 1.0 only")
			assert.Equal(t, 2, v1Requests)
			require.Len(t, logged, 1)
			assert.Contains(t, logged[0], "sending remote write 1.0 from now on")
		})
	}
}
