package remotewrite

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// instances builds a batch of one resource per (service, second): n
// services with k gauge series each, the seconds in the order given.
func instances(n, k int, seconds ...int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	base := time.Unix(1_700_000_000, 0)
	for _, sec := range seconds {
		for svc := range n {
			rm := md.ResourceMetrics().AppendEmpty()
			rm.Resource().Attributes().PutStr("service.name", "api")
			rm.Resource().Attributes().PutStr("service.instance.id", fmt.Sprintf("host-%d", svc))
			rm.Resource().Attributes().PutStr("tenant", "team-a")
			m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
			m.SetName("g")
			dps := m.SetEmptyGauge().DataPoints()
			for i := range k {
				dp := dps.AppendEmpty()
				dp.SetTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(sec) * time.Second)))
				dp.SetIntValue(int64(sec))
				dp.Attributes().PutStr("series", fmt.Sprint(i))
			}
		}
	}
	return md
}

// TestBatchSentInSlices sends a batch larger than a slice to Prometheus'
// own write handler over a TSDB, which refuses samples out of order. The
// batch holds each instance twice, its later second first: slices keep an
// instance's resources together, so every sample lands, in more requests
// than one slice would make.
func TestBatchSentInSlices(t *testing.T) {
	db, err := tsdb.Open(t.TempDir(), nil, nil, tsdb.DefaultOptions(), nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	h := remote.NewWriteHandler(nil, nil, db, remoteapi.MessageTypes{remoteapi.WriteV1MessageType}, false, false, false)
	var requests atomic.Int64
	srv := httptest.NewServer(writeOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		h.ServeHTTP(w, r)
	})))
	defer srv.Close()
	sender := newSender(t, srv, 2)
	sender.opts.SliceSeries = 70

	const services, perService = 12, 10
	md := instances(services, perService, 2, 1)
	require.Len(t, slices(md, sender.opts.SliceSeries), 4, "three instances (two resources of 11 series each) per slice")
	before := pmetric.NewMetrics()
	md.CopyTo(before)
	res, err := sender.Send(context.Background(), md)
	require.NoError(t, err)
	require.Equal(t, before, md, "the batch as it was, for a retry")
	assert.Equal(t, services*(perService+1), res.Series, "with target_info")
	assert.Equal(t, 2*services*(perService+1), res.Samples)
	assert.Equal(t, int64(8), requests.Load(), "four slices, two shards each")

	n, samples := stored(t, db, "g", func(labels.Labels) {})
	assert.Equal(t, services*perService, n)
	assert.Equal(t, 2*services*perService, samples)
}

// TestSmallBatchNotSliced: a batch within one slice is sent as it is, and
// so is one instance larger than a slice.
func TestSmallBatchNotSliced(t *testing.T) {
	assert.Nil(t, slices(instances(3, 2, 1), 100))
	assert.Nil(t, slices(instances(1, 50, 1, 2), 10))
	assert.Len(t, slices(instances(2, 50, 1), 10), 2)
}
