package httpc

import (
	"crypto/tls"
	"time"
)

// Defaults applied by New to zero fields of Config.
const (
	DefaultTimeout         = 60 * time.Second
	DefaultMaxRedirects    = 10
	DefaultMaxBodyBytes    = 64 << 20
	DefaultMaxIdlePerHost  = 4
	DefaultUserAgent       = "surge"
	maxHeaderBytes         = 1 << 20
	connBufferSize         = 4 << 10
	defaultDialKeepAlive   = 30 * time.Second
	acceptEncodingHeader   = "Accept-Encoding: gzip, deflate\r\n"
	acceptEncodingH2Header = "gzip, deflate"
)

// Config configures a Client. The zero value is usable: New fills Timeout,
// MaxBodyBytes, MaxIdlePerHost and UserAgent; MaxRedirects 0 means redirects
// are not followed, so start from DefaultConfig for k6's behavior.
type Config struct {
	// Timeout bounds a whole request, body included (and every redirect
	// hop together). Request.Timeout overrides it.
	Timeout time.Duration
	// MaxRedirects is how many redirects Do follows; 0 follows none.
	MaxRedirects int
	// TLS is cloned for every TLS connection: InsecureSkipVerify, client
	// certificates, RootCAs, MinVersion/MaxVersion and CipherSuites live
	// here. nil means Go's defaults. NextProtos and ServerName are set by
	// the client.
	TLS *tls.Config
	// DiscardBody reads and counts response bodies but keeps nothing:
	// Response.Body stays empty.
	DiscardBody bool
	// MaxBodyBytes caps a kept body; beyond it the body is truncated and
	// Response.Err is set.
	MaxBodyBytes int64
	// MaxIdlePerHost is how many idle keep-alive connections a Client keeps
	// per host (scheme, host and port).
	MaxIdlePerHost int
	// UserAgent is sent unless the request sets its own User-Agent.
	UserAgent string
	// H2C speaks HTTP/2 with prior knowledge to http:// URLs.
	H2C bool
	// DisableHTTP2 keeps https on HTTP/1.1 by not offering h2 in ALPN.
	DisableHTTP2 bool
	// Cookies gives the Client its own cookie jar (k6: one jar per VU).
	Cookies bool
	// Gzip sends Accept-Encoding: gzip, deflate (unless the request sets
	// Accept-Encoding) and decodes such responses transparently.
	Gzip bool
	// OnRedirect, when set, is called with every redirect response Do
	// follows (its Method, URL, Status, Timings and byte counts are that
	// hop's), so that each hop can be a sample as in k6. The final
	// Response then covers the last hop only; without OnRedirect its
	// Timings and byte counts are summed over all hops. It runs on the
	// goroutine that called Do.
	OnRedirect func(hop *Response)
}

// DefaultConfig is the configuration k6 users expect: 60 s timeout, 10
// redirects, a cookie jar, gzip, bodies kept up to 64 MiB.
func DefaultConfig() Config {
	return Config{
		Timeout:        DefaultTimeout,
		MaxRedirects:   DefaultMaxRedirects,
		MaxBodyBytes:   DefaultMaxBodyBytes,
		MaxIdlePerHost: DefaultMaxIdlePerHost,
		UserAgent:      DefaultUserAgent,
		Cookies:        true,
		Gzip:           true,
	}
}

func (cfg Config) withDefaults() Config {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxIdlePerHost <= 0 {
		cfg.MaxIdlePerHost = DefaultMaxIdlePerHost
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.MaxRedirects < 0 {
		cfg.MaxRedirects = 0
	}
	return cfg
}
