package httpc

// appendCookieLine appends the jar's cookies for t as one Cookie header
// line. It runs only once the jar has been given a cookie, so a test
// against a server that sets none pays nothing for the jar.
func (c *Client) appendCookieLine(b []byte, t *Target) []byte {
	cookies := c.jar.Cookies(t.URL)
	if len(cookies) == 0 {
		return b
	}
	b = append(b, "Cookie: "...)
	for i, ck := range cookies {
		if i > 0 {
			b = append(b, "; "...)
		}
		b = append(b, ck.String()...) // name=value, quoted when needed
	}
	return append(b, "\r\n"...)
}
