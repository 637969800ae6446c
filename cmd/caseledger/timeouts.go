package main

import (
	"net/http"
	"time"
)

// Defaults of the HTTP server's limits. A slow or stalled client must not
// hold a connection, and with it a goroutine and buffers, for long; the
// bodies caseledger takes are small (--max-body-bytes), so a client that
// needs more than a few seconds to send one has stalled.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second  // whole request, body included
	writeTimeout      = 30 * time.Second  // from the end of the headers to the end of the response
	idleTimeout       = 120 * time.Second // between requests on a kept-alive connection
	maxHeaderBytes    = 64 << 10
)

// httpLimits are the HTTP server's timeouts and header limit.
type httpLimits struct {
	readHeader, read, write, idle time.Duration
	maxHeaderBytes                int
}

func addHTTPLimitFlags(fs *flagSet) *httpLimits {
	l := &httpLimits{}
	fs.DurationVar(&l.readHeader, "read-header-timeout", readHeaderTimeout, "how long a client may take to send a request's headers; a stalled client is disconnected then")
	fs.DurationVar(&l.read, "read-timeout", readTimeout, "how long a client may take to send a whole request, body included")
	fs.DurationVar(&l.write, "write-timeout", writeTimeout, "how long the server may take to answer, from the end of the request's headers")
	fs.DurationVar(&l.idle, "idle-timeout", idleTimeout, "how long a kept-alive connection may wait for its next request")
	fs.IntVar(&l.maxHeaderBytes, "max-header-bytes", maxHeaderBytes, "largest request header accepted, in bytes")
	fs.fromEnv("read-header-timeout", "CASELEDGER_READ_HEADER_TIMEOUT")
	fs.fromEnv("read-timeout", "CASELEDGER_READ_TIMEOUT")
	fs.fromEnv("write-timeout", "CASELEDGER_WRITE_TIMEOUT")
	fs.fromEnv("idle-timeout", "CASELEDGER_IDLE_TIMEOUT")
	fs.fromEnv("max-header-bytes", "CASELEDGER_MAX_HEADER_BYTES")
	return l
}

// check refuses limits that would disable a protection (net/http reads
// zero as "no limit") or that contradict each other.
func (l *httpLimits) check(fs *flagSet) error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"read-header-timeout", l.readHeader}, {"read-timeout", l.read}, {"write-timeout", l.write}, {"idle-timeout", l.idle}} {
		if d.v <= 0 {
			return usageErrorf(fs.Name(), "--%s must be positive", d.name)
		}
	}
	if l.readHeader > l.read {
		return usageErrorf(fs.Name(), "--read-header-timeout (%s) must not exceed --read-timeout (%s)", l.readHeader, l.read)
	}
	if l.maxHeaderBytes <= 0 {
		return usageErrorf(fs.Name(), "--max-header-bytes must be positive")
	}
	return nil
}

// apply sets the limits on srv.
func (l *httpLimits) apply(srv *http.Server) {
	srv.ReadHeaderTimeout = l.readHeader
	srv.ReadTimeout = l.read
	srv.WriteTimeout = l.write
	srv.IdleTimeout = l.idle
	srv.MaxHeaderBytes = l.maxHeaderBytes
}
