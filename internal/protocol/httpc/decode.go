package httpc

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
)

// encoding is a response's Content-Encoding, as far as the client cares.
type encoding uint8

const (
	encIdentity encoding = iota
	encGzip
	encDeflate
	encOther
)

func parseEncoding(v []byte) encoding {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0, bytes.EqualFold(v, []byte("identity")):
		return encIdentity
	case bytes.EqualFold(v, []byte("gzip")), bytes.EqualFold(v, []byte("x-gzip")):
		return encGzip
	case bytes.EqualFold(v, []byte("deflate")):
		return encDeflate
	}
	return encOther
}

// decoder holds decompressors that are reset, not rebuilt, between bodies.
type decoder struct {
	src bytes.Reader
	gz  *gzip.Reader
	zl  io.ReadCloser
	fl  io.ReadCloser
}

// errBodyTooLarge is wrapped into the error of a body beyond MaxBodyBytes.
var errBodyTooLarge = errors.New("response body too large")

// decode decompresses src into dst[:0], keeping at most max bytes. HTTP's
// "deflate" is meant to be zlib-wrapped, but raw deflate is common; both
// are accepted.
func (d *decoder) decode(enc encoding, src, dst []byte, max int64) ([]byte, error) {
	d.src.Reset(src)
	var r io.Reader
	var err error
	switch enc {
	case encGzip:
		r, err = d.gzip()
	case encDeflate:
		r, err = d.deflate(src)
	default:
		return append(dst[:0], src...), nil
	}
	if err != nil {
		return dst[:0], fmt.Errorf("decoding %s body: %w", enc, err)
	}
	out, err := readCapped(r, dst[:0], max)
	if err != nil && !errors.Is(err, errBodyTooLarge) {
		err = fmt.Errorf("decoding %s body: %w", enc, err)
	}
	return out, err
}

func (d *decoder) gzip() (io.Reader, error) {
	if d.gz == nil {
		gz, err := gzip.NewReader(&d.src)
		d.gz = gz
		return gz, err
	}
	return d.gz, d.gz.Reset(&d.src)
}

func (d *decoder) deflate(src []byte) (io.Reader, error) {
	if len(src) >= 2 && (uint16(src[0])<<8|uint16(src[1]))%31 == 0 && src[0]&0x0f == 8 {
		if d.zl == nil {
			zl, err := zlib.NewReader(&d.src)
			d.zl = zl
			return zl, err
		}
		return d.zl, d.zl.(zlib.Resetter).Reset(&d.src, nil)
	}
	if d.fl == nil {
		d.fl = flate.NewReader(&d.src)
		return d.fl, nil
	}
	return d.fl, d.fl.(flate.Resetter).Reset(&d.src, nil)
}

func (e encoding) String() string {
	switch e {
	case encGzip:
		return "gzip"
	case encDeflate:
		return "deflate"
	case encOther:
		return "encoded"
	}
	return "identity"
}

// readCapped appends r to dst until EOF, failing with errBodyTooLarge once
// more than max bytes arrive; dst then holds the first max bytes.
func readCapped(r io.Reader, dst []byte, max int64) ([]byte, error) {
	for {
		if int64(len(dst)) > max {
			return dst[:max], fmt.Errorf("%w: more than %d bytes (MaxBodyBytes); body truncated", errBodyTooLarge, max)
		}
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		buf := dst[len(dst):cap(dst)]
		if room := max + 1 - int64(len(dst)); int64(len(buf)) > room {
			buf = buf[:room]
		}
		n, err := r.Read(buf)
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			if int64(len(dst)) > max {
				continue
			}
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}
