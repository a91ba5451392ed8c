package scim

// CachedEncoding returns the bytes c holds (nil when empty), so that the
// tests of package scim_test can tell a read the cache answered.
func CachedEncoding(c *EncodingCache) []byte {
	if e := c.p.Load(); e != nil {
		return e.body
	}
	return nil
}
