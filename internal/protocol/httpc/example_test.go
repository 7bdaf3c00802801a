package httpc_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/surgeload/surge/internal/protocol/httpc"
)

// One VU's loop: a Client, one prepared Request and one Response reused for
// every iteration, so the loop allocates nothing per request.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `{"items":[]}`)
	}))
	defer srv.Close()

	client := httpc.New(httpc.DefaultConfig())
	defer client.CloseIdle()
	req := &httpc.Request{URL: srv.URL + "/api/items"}
	if _, err := req.Prepare(); err != nil { // a bad URL fails here, before the test
		fmt.Println(err)
		return
	}
	var resp httpc.Response
	for range 3 {
		if err := client.Do(context.Background(), req, &resp); err != nil {
			fmt.Println("failed:", resp.ErrorCode, err)
			continue
		}
		fmt.Println(resp.Status, resp.Proto, string(resp.Body), resp.Timings.Duration > 0)
	}

	// HTTP errors are responses, with k6's error code; network errors are
	// failures with Status 0.
	client.Do(context.Background(), &httpc.Request{URL: srv.URL + "/missing"}, &resp)
	fmt.Println(resp.Status, resp.ErrorCode, resp.Err)
	err := client.Do(context.Background(), &httpc.Request{URL: "localhost:8080/api"}, &resp)
	fmt.Println(resp.Status, resp.ErrorCode, err)
	// Output:
	// 200 HTTP/1.1 {"items":[]} true
	// 200 HTTP/1.1 {"items":[]} true
	// 200 HTTP/1.1 {"items":[]} true
	// 404 1404 <nil>
	// 0 1020 GET localhost:8080/api: invalid URL "localhost:8080/api": scheme must be http or https
}
