package scim

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"

	"golang.org/x/time/rate"
)

// tenantLimiter is Options.RateLimit: a token bucket per tenant.
type tenantLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter // tenant ID →
}

// newTenantLimiter returns the limiter for Options.RateLimit and
// RateBurst; nil when perSecond is zero (off).
func newTenantLimiter(perSecond float64, burst int) (*tenantLimiter, error) {
	switch {
	case perSecond < 0 || math.IsNaN(perSecond) || math.IsInf(perSecond, 0):
		return nil, errors.New("scim: NewHandler: RateLimit is negative or not a number")
	case burst < 0:
		return nil, errors.New("scim: NewHandler: RateBurst is negative")
	case perSecond == 0:
		return nil, nil
	}
	if burst == 0 {
		burst = max(1, int(math.Ceil(2*perSecond)))
	}
	return &tenantLimiter{limit: rate.Limit(perSecond), burst: burst, buckets: map[string]*rate.Limiter{}}, nil
}

// allow takes a token from the bucket of r's tenant. When there is none it
// sets Retry-After on w to the whole seconds until there is, and returns
// false without taking one.
func (l *tenantLimiter) allow(w http.ResponseWriter, r *http.Request) bool {
	t, _ := TenantFrom(requestContext(w, r))
	l.mu.Lock()
	b := l.buckets[t.ID]
	if b == nil {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[t.ID] = b
	}
	l.mu.Unlock()
	res := b.Reserve()
	d := res.Delay()
	if d == 0 {
		return true
	}
	res.Cancel()
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))))
	return false
}

func errTooManyRequests(perSecond float64) *Error {
	return errorf(http.StatusTooManyRequests, "", fmt.Sprintf("too many requests for this tenant: this server allows %g per second; retry after the time in Retry-After", perSecond))
}
