// Command service is a small Go API to try surge profile on: /items spends
// its CPU in encoding/json, /hash in crypto/sha256, and net/http/pprof is
// mounted at /debug/pprof. See ../README.md.
package main

import (
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on the default mux
	"runtime"
)

type item struct {
	ID    int               `json:"id"`
	Name  string            `json:"name"`
	Tags  []string          `json:"tags"`
	Attrs map[string]string `json:"attrs"`
}

var items = func() []item {
	out := make([]item, 500)
	for i := range out {
		out[i] = item{ID: i, Name: fmt.Sprintf("item-%d", i), Tags: []string{"a", "b", "c"},
			Attrs: map[string]string{"color": "red", "size": "xl"}}
	}
	return out
}()

func main() {
	addr := flag.String("addr", "127.0.0.1:6060", "listen address")
	flag.Parse()
	runtime.SetMutexProfileFraction(5)
	runtime.SetBlockProfileRate(10000)
	http.HandleFunc("/items", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(items)
	})
	http.HandleFunc("/hash", func(w http.ResponseWriter, r *http.Request) {
		sum := sha256.Sum256([]byte(r.URL.RawQuery))
		for i := 0; i < 5000; i++ {
			sum = sha256.Sum256(sum[:])
		}
		fmt.Fprintf(w, "%x\n", sum)
	})
	log.Printf("listening on http://%s (pprof at /debug/pprof)", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
