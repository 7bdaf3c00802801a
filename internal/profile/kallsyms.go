package profile

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// kallsyms is the kernel's text symbol table from /proc/kallsyms, read once
// per process when the first kernel frame is named.
var kallsyms struct {
	once  sync.Once
	addrs []uint64
	names []string
}

func loadKallsyms() {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		return
	}
	defer f.Close()
	type sym struct {
		addr uint64
		name string
	}
	var syms []sym
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 3 || !strings.ContainsAny(fs[1], "tTwW") {
			continue
		}
		a, err := strconv.ParseUint(fs[0], 16, 64)
		if err != nil || a == 0 { // 0: addresses hidden by kptr_restrict
			continue
		}
		syms = append(syms, sym{a, fs[2]})
	}
	sort.Slice(syms, func(i, j int) bool { return syms[i].addr < syms[j].addr })
	for _, s := range syms {
		kallsyms.addrs = append(kallsyms.addrs, s.addr)
		kallsyms.names = append(kallsyms.names, s.name)
	}
}

// kernelSymbol names a kernel pc "[k] function", or "[k] 0xADDR" when
// /proc/kallsyms hides addresses (kernel.kptr_restrict).
func kernelSymbol(pc uint64) string {
	kallsyms.once.Do(loadKallsyms)
	i := sort.Search(len(kallsyms.addrs), func(i int) bool { return kallsyms.addrs[i] > pc }) - 1
	if i < 0 {
		return fmt.Sprintf("[k] 0x%x", pc)
	}
	return "[k] " + kallsyms.names[i]
}
