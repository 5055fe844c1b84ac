package server

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"
)

// A client that sends its body too slowly cannot hold a connection past the
// server's read timeout (NewHTTPServer, as trustmap serve runs it).
func TestSlowClientIsCutOff(t *testing.T) {
	s := newTestServer(t, nil, nil, Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHTTPServer("", s, 300*time.Millisecond)
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	if hs.ReadHeaderTimeout <= 0 || hs.IdleTimeout <= 0 || hs.WriteTimeout <= hs.ReadTimeout || hs.MaxHeaderBytes <= 0 {
		t.Fatalf("limits: %+v", hs)
	}

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST /v1/verify HTTP/1.1\r\nHost: gate\r\nAuthorization: Bearer %s\r\nContent-Length: 100000\r\n\r\n{\"package\":", testToken)
	// Never send the rest: the server must give up on its own.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("a body that never came was answered %d", resp.StatusCode)
		}
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("the connection was held %s", el)
	}
}
