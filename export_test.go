package scim

// CachedEncoding returns the bytes c holds (nil when empty), so that the
// tests of package scim_test can tell a read the cache answered.
func CachedEncoding(c *EncodingCache) []byte {
	if e := c.p.Load(); e != nil {
		return e.body
	}
	return nil
}

// PooledWriterHeld reports whether the status writer the pool hands out
// next still holds a request's writer or context, which nothing may keep
// past its request.
func PooledWriterHeld() bool {
	sw := statusWriters.Get().(*statusWriter)
	defer statusWriters.Put(sw)
	return sw.ctx != nil || sw.ResponseWriter != nil
}
