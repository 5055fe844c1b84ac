package server

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	verifications *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	storeErrors   prometheus.Counter
	reloads       *prometheus.CounterVec
	// byResult are the verification metrics of each result label.
	byResult map[string]resultMetrics
}

type resultMetrics struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustmap_verifications_total",
			Help: "Uploads answered, by result: passed, failed, or replayed (the stored verdict of an identical upload).",
		}, []string{"result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trustmap_verification_duration_seconds",
			Help:    "Time to answer POST /v1/verify, archive writes included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"result"}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trustmap_store_errors_total",
			Help: "Store operations that failed (database unreachable, I/O).",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustmap_config_reloads_total",
			Help: "Reloads of roots and policy, by outcome: applied, or kept-previous after a bad file.",
		}, []string{"result"}),
	}
	reg.MustRegister(m.verifications, m.latency, m.storeErrors, m.reloads)
	m.byResult = map[string]resultMetrics{}
	for _, r := range []string{"passed", "failed", "replayed"} {
		m.byResult[r] = resultMetrics{m.verifications.WithLabelValues(r), m.latency.WithLabelValues(r)}
	}
	return m
}
